// systemd/sqlite-maintd.service: `systemd-analyze verify` accepts it, and it says what
// CONTRACT.md section 9 asks for. verify checks that ExecStart's binary exists and is
// executable, so the test verifies a copy whose ExecStart points at the built binary.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "lib/core/units.h"
#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

const char* const kInstalledBinary = "/usr/bin/sqlite-maintd";

std::string FindSystemdAnalyze() {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/local/bin"}) {
    std::string path = std::string(dir) + "/systemd-analyze";
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

struct Verify {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

Verify RunVerify(const std::string& tool, const std::string& unit) {
  Verify v;
  std::string cmd = tool + " verify '" + unit + "' 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return v;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) v.output.append(buf, n);
  int status = ::pclose(pipe);
  v.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return v;
}

// The unit with ExecStart pointing at the built binary.
std::string UnitForBuild() {
  std::string unit = ReadFile(std::string(MAINTD_SOURCE_DIR) + "/systemd/sqlite-maintd.service");
  size_t at = unit.find(kInstalledBinary);
  EXPECT_NE(at, std::string::npos) << "ExecStart must run " << kInstalledBinary;
  if (at != std::string::npos)
    unit.replace(at, std::string(kInstalledBinary).size(), MaintdBinary());
  return unit;
}

// Lines of `output` that mention the unit (verify may also talk about units it pulls in).
std::string Complaints(const std::string& output) {
  std::istringstream in(output);
  std::string line, found;
  while (std::getline(in, line)) {
    if (line.find("sqlite-maintd") != std::string::npos) found += line + "\n";
  }
  return found;
}

TEST(SystemdUnit, VerifyPasses) {
  std::string tool = FindSystemdAnalyze();
  if (tool.empty()) {
    GTEST_SKIP() << "systemd-analyze not installed (package systemd; not in "
                    "scripts/setup-deps.sh: it brings the whole init system for one check)";
  }
  TempDir dir;
  std::string unit = dir.File("sqlite-maintd.service");
  WriteFile(unit, UnitForBuild());
  Verify v = RunVerify(tool, unit);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_EQ(Complaints(v.output), "") << v.output;

  // The check can fail: a misspelt key and a missing binary are reported.
  std::string bad = dir.File("bad/sqlite-maintd.service");
  std::filesystem::create_directories(dir.File("bad"));
  std::string text = UnitForBuild();
  text.replace(text.find("Type=notify"), 11, "Type=notify\nTimeoutStopSek=30s");
  WriteFile(bad, text);
  EXPECT_NE(Complaints(RunVerify(tool, bad).output), "");
  text = UnitForBuild();
  text.replace(text.find(MaintdBinary()), MaintdBinary().size(), dir.File("no-such-binary"));
  WriteFile(bad, text);
  EXPECT_NE(RunVerify(tool, bad).exit_code, 0);
}

// What section 9 of the contract asks of the unit, read from the file itself.
TEST(SystemdUnit, NotifyHardeningAndStopTimeout) {
  std::string unit = ReadFile(std::string(MAINTD_SOURCE_DIR) + "/systemd/sqlite-maintd.service");
  auto value = [&](const std::string& key) -> std::string {
    std::istringstream in(unit);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    }
    return "";
  };
  EXPECT_EQ(value("Type"), "notify");
  EXPECT_NE(value("ExecReload").find("-HUP $MAINPID"), std::string::npos);
  EXPECT_NE(value("ExecStart").find(" run"), std::string::npos);
  EXPECT_EQ(value("User"), "sqlite-maintd");
  EXPECT_EQ(value("ProtectSystem"), "strict");
  EXPECT_EQ(value("NoNewPrivileges"), "true");
  EXPECT_EQ(value("PrivateTmp"), "true");
  EXPECT_NE(value("ReadWritePaths"), "");
  EXPECT_NE(value("WatchdogSec"), "");
  // Above the default shutdown.deadline (20s) plus the second the daemon may take after it.
  auto stop = ParseDuration(value("TimeoutStopSec"));
  ASSERT_TRUE(stop.ok()) << value("TimeoutStopSec");
  EXPECT_GT(*stop, std::chrono::seconds(21));
}

}  // namespace
}  // namespace maintd::test
