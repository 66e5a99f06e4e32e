// man/sqlite-maintd.8 against the real binary's --help: every command and every option the
// CLI has is in the man page, and man(1) formats it without warnings.
#include <cstdio>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

std::string ManPage() { return ReadFile(std::string(MAINTD_SOURCE_DIR) + "/man/sqlite-maintd.8"); }

// roff spells "--" as "\-\-" and "-" as "\-".
std::string Roff(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

// The subcommand names of `sqlite-maintd --help` (lines after "Subcommands:").
std::vector<std::string> Subcommands() {
  auto r = RunMaintd({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> names;
  std::istringstream lines(r.out);
  std::string line;
  bool in_list = false;
  std::regex entry("^  ([a-z][a-z-]*) ");
  while (std::getline(lines, line)) {
    if (line.rfind("Subcommands:", 0) == 0) in_list = true;
    std::smatch m;
    if (in_list && std::regex_search(line, m, entry)) names.push_back(m[1]);
  }
  return names;
}

// The long options (--xxx) of `sqlite-maintd [command] --help`.
std::set<std::string> LongOptions(const std::vector<std::string>& args) {
  auto r = RunMaintd(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> options;
  std::regex option("^  (?:-h,)?(--[a-z][a-z-]*)");
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_search(line, m, option)) options.insert(m[1]);
  }
  return options;
}

TEST(ManPage, DescribesEveryCommandAndOption) {
  std::string man = ManPage();
  auto commands = Subcommands();
  ASSERT_GE(commands.size(), 10u);
  for (const std::string& command : commands) {
    // A command is a .TP tag of its own under COMMANDS: ".B name" or ".BR name ...".
    std::regex tag("\n\\.BR? " + std::regex_replace(Roff(command), std::regex("\\\\"), "\\\\") +
                   "( |\n)");
    EXPECT_TRUE(std::regex_search(man, tag)) << "command '" << command << "' not in the man page";
    for (const std::string& option : LongOptions({command, "--help"})) {
      EXPECT_NE(man.find(Roff(option)), std::string::npos)
          << command << " " << option << " not in the man page";
    }
  }
  for (const std::string& option : LongOptions({"--help"})) {
    EXPECT_NE(man.find(Roff(option)), std::string::npos) << option << " not in the man page";
  }
}

TEST(ManPage, FormatsWithoutWarnings) {
  std::string page = std::string(MAINTD_SOURCE_DIR) + "/man/sqlite-maintd.8";
  // What lintian runs (groff's every warning on; stdout, the page itself, is dropped).
  std::string command = "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z '" +
                        page + "' 2>&1 >/dev/null";
  if (std::system("command -v man >/dev/null 2>&1") != 0) GTEST_SKIP() << "man(1) not installed";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string warnings;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) warnings.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0);
  EXPECT_EQ(warnings, "");
}

}  // namespace
}  // namespace maintd::test
