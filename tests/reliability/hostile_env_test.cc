// The real binary against a hostile environment: a database locked by another process past
// busy_timeout, deleted or replaced while the daemon runs, and read-only.
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "tests/reliability/reliability_util.h"

namespace maintd::test {
namespace {

using std::chrono::seconds;
namespace fs = std::filesystem;

class HostileEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("app.db");
    journal_ = dir_.File("journal.db");
    config_ = dir_.File("c.yaml");
  }
  // The daemon on db_ with busy_timeout 200ms and a lease_requeue rule every 300ms.
  std::string RequeueEvery300msConfig() const {
    return "http: { listen: \"127.0.0.1:0\" }\n"
           "defaults: { busy_timeout: 200ms }\n"
           "databases:\n  - name: app\n    path: " +
           db_ + "\n    lease_requeue: [ { table: tasks, every: 300ms } ]\n";
  }
  TempDir dir_;
  std::string db_, journal_, config_;
};

// A queue table with `n` expired leases.
void MakeQueueDb(const std::string& path, int n) {
  int64_t now = static_cast<int64_t>(time(nullptr));
  ExecSql(path,
          "PRAGMA journal_mode=WAL; CREATE TABLE tasks(id INTEGER PRIMARY KEY, status "
          "TEXT, lease_expires_at INTEGER, attempts INTEGER DEFAULT 0);"
          "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<" +
              std::to_string(n) +
              ") INSERT INTO tasks(status, lease_expires_at) SELECT "
              "'leased', " +
              std::to_string(now - 60) + " FROM c;");
}

TEST_F(HostileEnvTest, LockedPastBusyTimeoutOnceExits75AndRecordsASkippedWarning) {
  MakeQueueDb(db_, 50);
  WriteFile(config_, "journal: " + journal_ +
                         "\ndefaults: { busy_timeout: 300ms }\n"
                         "databases:\n  - name: app\n    path: " +
                         db_ + "\n    lease_requeue: [ { table: tasks } ]\n");
  LockHolder app(db_);
  ASSERT_TRUE(app.held());
  for (const char* job : {"analyze", "lease_requeue"}) {
    auto start = std::chrono::steady_clock::now();
    auto r = RunMaintd({"--config", config_, "once", "--job", job, "app"});
    EXPECT_EQ(r.exit_code, 75) << job << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("skipped"), std::string::npos) << r.out;
    EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10)) << job;
    EXPECT_EQ(QueryText(journal_, std::string("SELECT status || ' ' || coalesce(json_extract("
                                              "details, '$.skipped'), '') FROM "
                                              "sqlite_health_checks WHERE check_type = '") +
                                      job + "' ORDER BY id DESC LIMIT 1"),
              "warning busy");
  }
  // Read-only work and a WAL backup do not need the write lock: they go through.
  EXPECT_EQ(RunMaintd({"--config", config_, "once", "--job", "health", "app"}).exit_code, 0);
  EXPECT_EQ(RunMaintd({"--config", config_, "backup", "--dest", dir_.File("bk"), "app"}).exit_code,
            0);
  app.Release();
  auto r = RunMaintd({"--config", config_, "once", "--job", "lease_requeue", "app"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM tasks WHERE status = 'queued'"), 50);
}

TEST_F(HostileEnvTest, LockedPastBusyTimeoutTheDaemonSkipsRetriesAndSurvives) {
  MakeQueueDb(db_, 50);
  WriteFile(config_, "journal: " + journal_ + "\n" + RequeueEvery300msConfig());
  LockHolder app(db_);
  ASSERT_TRUE(app.held());
  ChildProcess daemon({MaintdBinary(), "--config", config_, "run"}, {}, dir_.path());
  int port = DaemonPort(daemon);
  ASSERT_NE(port, 0) << daemon.Stderr();
  auto skipped = [&] {
    return SilentQueryInt(journal_,
                          "SELECT count(*) FROM sqlite_health_checks WHERE "
                          "check_type = 'lease_requeue' AND status = 'warning'");
  };
  // Skipped at several slots in a row (retried each time), alive and healthy meanwhile.
  ASSERT_TRUE(WaitFor([&] { return skipped() >= 3; }, seconds(30))) << daemon.Stderr();
  EXPECT_TRUE(daemon.Running());
  EXPECT_EQ(HttpGetStatus(port, "/healthz"), 200);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM tasks WHERE status = 'queued'"), 0);
  // The lock goes away: the next slot does the work.
  app.Release();
  EXPECT_TRUE(WaitFor(
      [&] { return QueryInt(db_, "SELECT count(*) FROM tasks WHERE status = 'queued'") == 50; },
      seconds(15)))
      << daemon.Stderr();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(25)), 0) << daemon.Stderr();
}

// The default `journal: target` on a database locked past busy_timeout (issue 16): each job
// waits one busy_timeout at most, not another busy_timeout plus retries for its journal row
// (`once` took 13 s here with busy_timeout 1s).
TEST_F(HostileEnvTest, OnceOnALockedDatabaseWaitsAboutOneBusyTimeoutPerLockedStep) {
  MakeQueueDb(db_, 50);
  WriteFile(config_, "defaults: { busy_timeout: 1s }\ndatabases:\n  - name: app\n    path: " +
                         db_ + "\n");
  LockHolder app(db_);
  ASSERT_TRUE(app.held());
  auto start = std::chrono::steady_clock::now();
  auto r = RunMaintd({"--config", config_, "once", "app"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 75) << r.out << r.err;
  EXPECT_NE(r.out.find("analyze warning skipped"), std::string::npos) << r.out;
  // One busy_timeout for the journal's first try, one each for the writing jobs that meet
  // the lock (analyze, journal_prune), 100 ms per later journal write: about 3.5 s.
  EXPECT_LT(took, seconds(6)) << r.out << r.err;
  EXPECT_NE(r.err.find("journal row(s) not written: the database stayed locked"),
            std::string::npos)
      << r.err;
}

// A busy skip in `journal: target` mode cannot be written into the locked database: the
// daemon keeps the row and writes it, with the time of the skip, once the database is free,
// so the runbook's query (`"skipped":"busy"` rows) finds it.
TEST_F(HostileEnvTest, TheDaemonJournalsABusySkipOnceTheDatabaseIsFree) {
  MakeQueueDb(db_, 50);
  WriteFile(config_, RequeueEvery300msConfig());  // journal: target
  LockHolder app(db_);
  ASSERT_TRUE(app.held());
  ChildProcess daemon({MaintdBinary(), "--config", config_, "run"}, {}, dir_.path());
  ASSERT_TRUE(WaitFor(
      [&] { return CountOf(daemon.Stderr(), "job=lease_requeue status=warning (skipped)") >= 2; },
      seconds(30)))
      << daemon.Stderr();
  EXPECT_NE(daemon.Stderr().find("journal locked: "), std::string::npos) << daemon.Stderr();
  std::string released_at = QueryText(db_, "SELECT datetime('now')");
  app.Release();
  auto busy_rows = [&] {
    return SilentQueryInt(db_,
                          "SELECT count(*) FROM sqlite_health_checks WHERE check_type = "
                          "'lease_requeue' AND status = 'warning' AND "
                          "json_extract(details, '$.skipped') = 'busy'");
  };
  ASSERT_TRUE(WaitFor([&] { return busy_rows() >= 2; }, seconds(15))) << daemon.Stderr();
  // Written with the time of the skip, before the lock went away.
  EXPECT_LE(QueryText(db_,
                      "SELECT min(checked_ts) FROM sqlite_health_checks WHERE "
                      "json_extract(details, '$.skipped') = 'busy'"),
            released_at);
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(25)), 0) << daemon.Stderr();
}

TEST_F(HostileEnvTest, DatabaseDeletedWhileTheDaemonRuns) {
  MakeWalDb(db_, 500);
  WriteFile(config_,
            "http: { listen: \"127.0.0.1:0\" }\n"
            "defaults: { checkpoint: { every: 200ms }, health: { quick_check_every: 300ms } }\n"
            "databases:\n  - name: app\n    path: " +
                db_ + "\n");
  ChildProcess daemon({MaintdBinary(), "--config", config_, "run"}, {}, dir_.path());
  int port = DaemonPort(daemon);
  ASSERT_NE(port, 0) << daemon.Stderr();
  ASSERT_TRUE(WaitFor([&] { return CountOf(daemon.Stderr(), "job=checkpoint") >= 1; }, seconds(15)))
      << daemon.Stderr();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db_ + suffix);
  // Later runs fail (logged) and the daemon stays up, serving /healthz.
  int before = CountOf(daemon.Stderr(), "status=critical");
  ASSERT_TRUE(WaitFor([&] { return CountOf(daemon.Stderr(), "status=critical") >= before + 3; },
                      seconds(20)))
      << daemon.Stderr();
  EXPECT_TRUE(daemon.Running());
  EXPECT_EQ(HttpGetStatus(port, "/healthz"), 200);
  // It does not quietly make an empty database where the application's was.
  EXPECT_FALSE(fs::exists(db_)) << "the daemon re-created the deleted database";
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(25)), 0) << daemon.Stderr();
}

TEST_F(HostileEnvTest, DatabaseReplacedWhileTheDaemonRuns) {
  MakeWalDb(db_, 500);
  WriteFile(config_,
            "http: { listen: \"127.0.0.1:0\" }\n"
            "defaults: { checkpoint: { every: 200ms }, health: { quick_check_every: 300ms } }\n"
            "databases:\n  - name: app\n    path: " +
                db_ + "\n");
  ChildProcess daemon({MaintdBinary(), "--config", config_, "run"}, {}, dir_.path());
  int port = DaemonPort(daemon);
  ASSERT_NE(port, 0) << daemon.Stderr();
  ASSERT_TRUE(WaitFor([&] { return CountOf(daemon.Stderr(), "job=health") >= 1; }, seconds(15)))
      << daemon.Stderr();

  // 1. Another SQLite database renamed over it (a restore done by hand): maintained as is,
  //    its content intact.
  std::string other = dir_.File("other.db");
  ExecSql(other, "CREATE TABLE other(x); INSERT INTO other VALUES ('kept');");
  std::string other_digest = ContentDigest(other);
  ASSERT_EQ(::rename(other.c_str(), db_.c_str()), 0);
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(db_ + suffix);
  ASSERT_TRUE(WaitFor(
      [&] {
        return QueryInt(db_,
                        "SELECT count(*) FROM sqlite_master WHERE name = "
                        "'sqlite_health_checks'") == 1;
      },
      seconds(15)))
      << daemon.Stderr();
  EXPECT_EQ(ContentDigest(db_), other_digest);
  EXPECT_EQ(QueryText(db_, "PRAGMA integrity_check"), "ok");

  // 2. Garbage renamed over it: the runs fail, the file is never written, the daemon lives.
  std::string junk = dir_.File("junk");
  std::string bytes(64 * 1024, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 31 + 7) & 0xff);
  WriteFile(junk, bytes);
  int before = CountOf(daemon.Stderr(), "status=critical");
  ASSERT_EQ(::rename(junk.c_str(), db_.c_str()), 0);
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(db_ + suffix);
  ASSERT_TRUE(WaitFor([&] { return CountOf(daemon.Stderr(), "status=critical") >= before + 3; },
                      seconds(20)))
      << daemon.Stderr();
  EXPECT_TRUE(ReadFile(db_) == bytes) << "the daemon wrote into a file that is not a database";
  EXPECT_FALSE(fs::exists(db_ + "-wal"));
  EXPECT_TRUE(daemon.Running());
  EXPECT_EQ(HttpGetStatus(port, "/healthz"), 200);
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(25)), 0) << daemon.Stderr();
}

// Runs the binary as an unprivileged user when this process is root (root ignores file
// modes, so a chmod alone proves nothing), as this user otherwise.
ProcessResult RunMaintdUnprivileged(const std::vector<std::string>& args,
                                    const std::string& out_dir) {
  std::string out = out_dir + "/unpriv.out", err = out_dir + "/unpriv.err";
  pid_t pid = ::fork();
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    ::dup2(o, 1);
    ::dup2(e, 2);
    if (::geteuid() == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
        _exit(126);
      }
    }
    std::vector<std::string> argv{MaintdBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    _exit(127);
  }
  ProcessResult r;
  int st = 0;
  bool done = WaitFor([&] { return ::waitpid(pid, &st, WNOHANG) == pid; }, seconds(60));
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &st, 0);
  } else {
    r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

TEST_F(HostileEnvTest, ReadOnlyDatabaseIsReadNeverWritten) {
  // A rollback-journal database (a WAL database in a read-only directory cannot be opened
  // at all without its -shm: SQLite's rule), mode 0444 in a directory of mode 0555; the
  // maintainer lock goes to a writable lock_dir, backups to a writable directory.
  std::string ro_dir = dir_.File("ro");
  std::string rw_dir = dir_.File("rw");
  fs::create_directory(ro_dir);
  fs::create_directory(rw_dir);
  std::string db = ro_dir + "/app.db";
  ExecSql(db,
          "CREATE TABLE items(id INTEGER PRIMARY KEY, body TEXT);"
          "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<2000) "
          "INSERT INTO items(body) SELECT hex(randomblob(100)) FROM c;"
          "DELETE FROM items WHERE id <= 1000;");
  std::string config = rw_dir + "/c.yaml";
  WriteFile(config,
            "lock_dir: " + rw_dir +
                "\n"
                "defaults: { vacuum: { full_when_no_auto_vacuum: true, trigger_free_ratio: 0.01,"
                " min_free_pages: 1, min_free_disk_factor: 1 } }\n"
                "databases:\n  - name: app\n    path: " +
                db + "\n");
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(rw_dir.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(db.c_str(), 0444), 0);
  ASSERT_EQ(::chmod(ro_dir.c_str(), 0555), 0);
  std::string bytes = ReadFile(db);

  // The unprivileged user really cannot write it (else this test proves nothing).
  auto probe = RunMaintdUnprivileged({"--version"}, rw_dir);
  ASSERT_EQ(probe.exit_code, 0) << "cannot run the binary unprivileged: " << probe.err;

  auto check = RunMaintdUnprivileged({"--config", config, "check", "app"}, rw_dir);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  auto health =
      RunMaintdUnprivileged({"--config", config, "once", "--job", "health", "app"}, rw_dir);
  EXPECT_EQ(health.exit_code, 0) << health.out << health.err;
  auto backup = RunMaintdUnprivileged(
      {"--config", config, "backup", "--dest", rw_dir + "/backups", "app"}, rw_dir);
  EXPECT_EQ(backup.exit_code, 0) << backup.out << backup.err;
  // Writing jobs fail with a message, exit 1, no crash.
  for (std::vector<std::string> args : {std::vector<std::string>{"once", "--job", "analyze", "app"},
                                        std::vector<std::string>{"once", "--job", "vacuum", "app"},
                                        std::vector<std::string>{"vacuum", "--full", "app"}}) {
    args.insert(args.begin(), {"--config", config});
    auto r = RunMaintdUnprivileged(args, rw_dir);
    EXPECT_EQ(r.exit_code, 1) << args[3] << " " << args[4] << "\n" << r.out << r.err;
    std::string all = r.out + r.err;
    EXPECT_TRUE(all.find("readonly") != std::string::npos ||
                all.find("read-only") != std::string::npos ||
                all.find("read only") != std::string::npos)
        << all;
  }
  EXPECT_TRUE(ReadFile(db) == bytes) << "a read-only database was modified";
  EXPECT_EQ(fs::directory_iterator(ro_dir) == fs::directory_iterator(), false);
  EXPECT_EQ(std::distance(fs::directory_iterator(ro_dir), fs::directory_iterator()), 1)
      << "something was created beside the read-only database";
  ::chmod(ro_dir.c_str(), 0755);  // so that TempDir can clean up as a non-root user
}

}  // namespace
}  // namespace maintd::test
