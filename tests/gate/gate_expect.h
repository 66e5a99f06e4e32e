#pragma once
// What the gate suite expects of each command on a corrupt database (issue 11): the writing
// commands, the daemon, `check` and `status`, each run through the real binary on a
// GateWorld (gate_util.h) and compared byte for byte with the files before it ran.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/gate/gate_util.h"

namespace maintd::test {

// A command that may write, with DB last; "{OUT}" stands for a path that does not exist.
struct WritingCommand {
  std::string name;  // for test names: letters, digits, '_'
  std::vector<std::string> args;
};

inline void PrintTo(const WritingCommand& c, std::ostream* os) { *os << c.name; }

inline const std::vector<WritingCommand>& WritingCommands() {
  static const std::vector<WritingCommand> commands = {
      {"once", {"once"}},
      {"once_job_vacuum", {"once", "--job", "vacuum"}},
      {"once_job_analyze", {"once", "--job", "analyze"}},
      {"once_job_checkpoint", {"once", "--job", "checkpoint"}},
      {"analyze", {"analyze"}},
      {"checkpoint", {"checkpoint"}},
      {"checkpoint_truncate", {"checkpoint", "--mode", "truncate"}},
      {"vacuum", {"vacuum"}},
      {"vacuum_incremental", {"vacuum", "--incremental"}},
      {"vacuum_full", {"vacuum", "--full"}},
      {"vacuum_into", {"vacuum", "--into", "{OUT}"}},
      {"backup", {"backup"}},
  };
  return commands;
}

inline std::vector<std::string> ArgsFor(const WritingCommand& c, const GateWorld& w) {
  std::vector<std::string> args;
  for (const auto& a : c.args) args.push_back(a == "{OUT}" ? w.File(c.name + ".out.db") : a);
  args.push_back(w.db());
  return args;
}

inline std::string Joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Runs `args` on the world's database expecting exit 1; `before` gets the bytes of the
// database and its -wal as they were before it ran.
inline ProcessResult RunExpectingExit1(const GateWorld& w, const std::vector<std::string>& args,
                                       DbBytes* before) {
  *before = ReadDbBytes(w.db());
  ProcessResult r = w.Run(args);
  EXPECT_EQ(r.exit_code, 1) << Joined(args) << "\n" << r.out << r.err;
  return r;
}

// Runs a writing command on the world's database and checks the three promises: exit 1,
// the output says "corrupt", the database and its -wal are as they were before it ran.
inline void ExpectRefused(const GateWorld& w, const std::vector<std::string>& args) {
  DbBytes before;
  ProcessResult r = RunExpectingExit1(w, args, &before);
  std::string what = Joined(args);
  EXPECT_TRUE(ContainsNoCase(r.out + r.err, "corrupt")) << what << ": the output does not say why\n"
                                                        << r.out << r.err;
  ExpectSameBytes(before, w.db(), what);
}

// True when one line of `log` says, in any case, both "corrupt" and "critical".
inline bool LoggedCorruptCritical(const std::string& log) {
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (ContainsNoCase(line, "corrupt") && ContainsNoCase(line, "critical")) return true;
  }
  return false;
}

// `run DB` (default policy): waits until the daemon logged the database corrupt
// (critical), then SIGTERM; the graceful shutdown must not write either.
inline void ExpectDaemonLeavesItAlone(const GateWorld& w) {
  using std::chrono::seconds;
  DbBytes before = ReadDbBytes(w.db());
  std::vector<std::string> argv{MaintdBinary()};
  for (const auto& a : w.Argv({"run", w.db()})) argv.push_back(a);
  ChildProcess daemon(argv, {}, w.dir());
  bool logged = WaitFor([&] { return LoggedCorruptCritical(daemon.Stderr()) || !daemon.Running(); },
                        seconds(30));
  EXPECT_TRUE(logged && LoggedCorruptCritical(daemon.Stderr()))
      << "the daemon never logged the database corrupt (critical):\n"
      << daemon.Stderr();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(30)), 0) << daemon.Stderr();
  ExpectSameBytes(before, w.db(), "run (and its graceful shutdown)");
}

// `check` output: the problem lines are every stdout line but the blank ones, the headers
// ("quick_check: FAILED ...", SQLite's "*** in database main ***") and the "... and N
// more" lines.
struct CheckListing {
  std::vector<std::string> problems;
  std::vector<int64_t> more;  // N of each "... and N more" line
  bool more_is_last = true;   // no problem line after a "... and N more"
};

inline CheckListing ParseCheck(const std::string& out) {
  static const std::regex header(
      "^\\s*((quick_check|integrity_check|foreign_key_check)\\b.*|\\*\\*\\* in database .*)");
  static const std::regex more("^\\s*\\.\\.\\. and ([0-9]+) more.*");
  CheckListing l;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.find_first_not_of(" \t") == std::string::npos || std::regex_match(line, header)) {
      continue;
    }
    if (std::regex_match(line, m, more)) {
      l.more.push_back(std::stoll(m[1]));
      continue;
    }
    if (!l.more.empty()) l.more_is_last = false;
    l.problems.push_back(line);
  }
  return l;
}

// `check [--full] DB`: exit 1, at most 20 problem lines then one "... and N more", no
// problem printed twice, nothing written.
inline void ExpectCheckListing(const GateWorld& w, const std::vector<std::string>& args) {
  DbBytes before;
  ProcessResult r = RunExpectingExit1(w, args, &before);
  std::string what = Joined(args);
  CheckListing l = ParseCheck(r.out);
  EXPECT_GE(l.problems.size(), 1u) << what << "\n" << r.out;
  EXPECT_LE(l.problems.size(), 20u)
      << what << " printed " << l.problems.size() << " problems, not at most 20\n"
      << r.out;
  EXPECT_EQ(l.more.size(), 1u) << what << ": expected one \"... and N more\" line\n" << r.out;
  if (!l.more.empty()) {
    EXPECT_GE(l.more[0], 1) << r.out;
  }
  EXPECT_TRUE(l.more_is_last) << what << ": problems after \"... and N more\"\n" << r.out;
  std::map<std::string, int> seen;
  for (const auto& p : l.problems) ++seen[p];
  int repeated = 0;
  for (const auto& [line, n] : seen) repeated += n > 1 ? 1 : 0;
  EXPECT_EQ(repeated, 0) << what << " printed " << repeated << " problems more than once, e.g. "
                         << seen.begin()->first << " x" << seen.begin()->second;
  ExpectSameBytes(before, w.db(), what);
}

// `status DB` and `status --json DB` after a writing command met the database: the line
// says `integrity=critical`, the object has "integrity": {"status": "critical", ...};
// nothing written.
inline void ExpectStatusCritical(const GateWorld& w) {
  DbBytes before = ReadDbBytes(w.db());
  ProcessResult text = w.Run({"status", w.db()});
  std::string line;
  std::istringstream in(text.out);
  for (std::string l; std::getline(in, l);) {
    if (l.find(w.db()) != std::string::npos) line = l;
  }
  EXPECT_NE(line.find("integrity=critical"), std::string::npos) << "status line: " << line << "\n"
                                                                << text.out << text.err;

  ProcessResult json = w.Run({"status", "--json", w.db()});
  nlohmann::json object;
  std::istringstream jin(json.out);
  for (std::string l; std::getline(jin, l);) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    if (j.is_object() && j.value("path", "") == w.db()) object = j;
  }
  EXPECT_TRUE(object.is_object()) << "no JSON object for " << w.db() << "\n"
                                  << json.out << json.err;
  EXPECT_TRUE(object.is_object() && object.contains("integrity") &&
              object["integrity"].is_object() &&
              object["integrity"].value("status", "") == "critical")
      << "status --json: " << object.dump();
  ExpectSameBytes(before, w.db(), "status");
}

}  // namespace maintd::test
