// End-to-end (issue 15): the live progress line of a one-shot command on a terminal (a
// pseudo-terminal here), nothing of it off a terminal, and `status` showing the job the
// daemon is running with its progress.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

// An auto_vacuum=INCREMENTAL WAL database with about `pages` free pages.
void MakeFreePages(const std::string& db, int pages) {
  ExecSql(db, "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
              "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<" +
                  std::to_string(pages) +
                  ") INSERT INTO t SELECT randomblob(3000) FROM c; DELETE FROM t;"
                  "PRAGMA wal_checkpoint(TRUNCATE);");
}

// A config whose incremental vacuum takes `pages_per_step`-page steps with `pause` between
// them: a vacuum of a few thousand pages then lasts seconds, on any machine.
std::string PacedConfig(const TempDir& dir, const std::string& db, int pages_per_step,
                        const std::string& pause) {
  std::string path = dir.File("c.yaml");
  WriteFile(path, "http: { listen: \"\" }\n"
                  "shutdown: { vacuum: none, analyze: false, checkpoint: none }\n"
                  "defaults:\n"
                  "  vacuum: { pages_per_step: " + std::to_string(pages_per_step) +
                  ", pause_between_steps: " + pause + " }\n"
                  "databases:\n  - path: " + db + "\n");
  return path;
}

struct PtyResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, as the terminal got them
};

// Runs the built sqlite-maintd with stdin, stdout and stderr on a new pseudo-terminal, as
// an operator's shell would, and collects what it writes until it exits.
PtyResult RunOnPty(const std::vector<std::string>& args, milliseconds timeout) {
  PtyResult r;
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    ADD_FAILURE() << "no pseudo-terminal";
    return r;
  }
  std::string slave_name = ::ptsname(master);
  std::vector<std::string> argv = {MaintdBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    int slave = ::open(slave_name.c_str(), O_RDWR);  // becomes the controlling terminal
    if (slave < 0) ::_exit(126);
    ::dup2(slave, 0);
    ::dup2(slave, 1);
    ::dup2(slave, 2);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  auto deadline = steady_clock::now() + timeout;
  char buf[4096];
  while (steady_clock::now() < deadline) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n > 0) {
        r.output.append(buf, static_cast<size_t>(n));
        continue;
      }
      break;  // EIO: every holder of the terminal closed it
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      // Drain what is left, then report.
      while (::poll(&p, 1, 50) > 0) {
        ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) break;
        r.output.append(buf, static_cast<size_t>(n));
      }
      ::close(master);
      r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return r;
    }
  }
  int status = 0;
  if (steady_clock::now() >= deadline) ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  ::close(master);
  r.exit_code = steady_clock::now() >= deadline ? -1
                : WIFEXITED(status)              ? WEXITSTATUS(status)
                                                 : 128 + WTERMSIG(status);
  return r;
}

// The "done" figures of every drawn "vacuum incremental: done/total pages" line.
std::vector<long> DrawnFigures(const std::string& out) {
  std::vector<long> done;
  std::regex line(R"(\rvacuum incremental: (\d+)/(\d+) pages)");
  for (std::sregex_iterator it(out.begin(), out.end(), line), end; it != end; ++it) {
    done.push_back(std::stol((*it)[1]));
  }
  return done;
}

TEST(ProgressE2E, VacuumOnATerminalShowsAProgressLineThatAdvances) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeFreePages(db, 3000);
  // ~30 steps of 100 pages, 60 ms apart: about 2 s, redrawn every 200 ms.
  std::string config = PacedConfig(dir, db, 100, "60ms");
  PtyResult r = RunOnPty({"--config", config, "vacuum", db}, seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<long> done = DrawnFigures(r.output);
  std::set<long> distinct(done.begin(), done.end());
  EXPECT_GE(distinct.size(), 2u) << "the line must advance: " << r.output;
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end())) << r.output;
  EXPECT_NE(r.output.find(" pages/s ETA "), std::string::npos) << r.output;
  // The line is erased before the result, which stays the command's last line.
  size_t result = r.output.find("pages_freed=");
  ASSERT_NE(result, std::string::npos) << r.output;
  EXPECT_EQ(r.output.rfind("\r\033[K", result), result - 4) << r.output;
  EXPECT_EQ(r.output.find("incremental:", result), std::string::npos) << r.output;
  EXPECT_EQ(QueryInt(db, "PRAGMA freelist_count"), 0);
}

TEST(ProgressE2E, NoProgressOnATerminalAndNoneOffATerminal) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeFreePages(db, 1500);
  std::string config = PacedConfig(dir, db, 100, "60ms");
  // --no-progress on a terminal: the result line only.
  PtyResult quiet = RunOnPty({"--config", config, "vacuum", "--no-progress", db}, seconds(60));
  ASSERT_EQ(quiet.exit_code, 0) << quiet.output;
  EXPECT_EQ(quiet.output.find('\r' + std::string("vacuum")), std::string::npos) << quiet.output;
  EXPECT_EQ(quiet.output.rfind("pages_freed=", 0), 0u) << quiet.output;

  // Off a terminal (pipes, as under cron): stdout is the result line alone, as before this
  // feature, and stderr has no progress either.
  ExecSql(db, "INSERT INTO t SELECT randomblob(3000) FROM t LIMIT 0;"
              "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<1500) "
              "INSERT INTO t SELECT randomblob(3000) FROM c; DELETE FROM t;");
  ProcessResult piped = RunMaintd({"--config", config, "vacuum", db});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_TRUE(std::regex_match(piped.out, std::regex("pages_freed=\\d+ [^\\n\\r]*\\n"))) << piped.out;
  EXPECT_EQ(piped.err.find("incremental:"), std::string::npos) << piped.err;

  // The same run with --progress draws it, even into a pipe (what the checks above would
  // see if the default drew off a terminal).
  ExecSql(db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<1500) "
              "INSERT INTO t SELECT randomblob(3000) FROM c; DELETE FROM t;");
  ProcessResult forced = RunMaintd({"--config", config, "vacuum", "--progress", db});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(forced.err.find("\rvacuum incremental: "), std::string::npos) << forced.err;
  EXPECT_TRUE(std::regex_match(forced.out, std::regex("pages_freed=\\d+ [^\\n\\r]*\\n")))
      << forced.out;
}

TEST(ProgressE2E, StatusShowsTheDaemonsRunningJobWithItsProgress) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeFreePages(db, 3000);
  // ~150 steps of 20 pages, 100 ms apart: the daemon's vacuum runs for 15 s or more.
  std::string config = PacedConfig(dir, db, 20, "100ms");
  ChildProcess daemon({MaintdBinary(), "--config", config, "run"}, {}, dir.path());
  nlohmann::json running;
  ASSERT_TRUE(WaitFor(
      [&] {
        ProcessResult st = RunMaintd({"--config", config, "status", "--json", db});
        if (st.exit_code != 0) return false;
        auto j = nlohmann::json::parse(st.out, nullptr, false);
        if (j.is_discarded() || !j.contains("running") || j["running"].is_null()) return false;
        running = j["running"];
        return running["job"] == "vacuum" && running["progress"].is_number() &&
               running["done"].get<int64_t>() > 0;
      },
      seconds(40)))
      << daemon.Stderr();
  double progress = running["progress"].get<double>();
  EXPECT_GT(progress, 0.0) << running.dump();
  EXPECT_LT(progress, 1.0) << running.dump();
  EXPECT_EQ(running["pid"], daemon.pid());
  EXPECT_EQ(running["unit"], "pages");
  EXPECT_GE(running["elapsed_seconds"].get<int64_t>(), 0);
  EXPECT_GT(running["total"].get<int64_t>(), 2000) << running.dump();
  // The text line says the same.
  ProcessResult text = RunMaintd({"--config", config, "status", db});
  EXPECT_NE(text.out.find(" | running vacuum incremental "), std::string::npos) << text.out;

  // A holder that died mid-job leaves its line in the lock file: status ignores it.
  daemon.Signal(SIGKILL);
  ASSERT_NE(daemon.Wait(seconds(10)), -1);
  ProcessResult after = RunMaintd({"--config", config, "status", "--json", db});
  auto j = nlohmann::json::parse(after.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << after.out << after.err;
  EXPECT_TRUE(j["running"].is_null()) << after.out;
  EXPECT_NE(ReadFile(db + "-maintd.lock").find("activity running job=vacuum"), std::string::npos);
}

}  // namespace
}  // namespace maintd::test
