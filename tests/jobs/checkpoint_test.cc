// The checkpoint job and RunCheckpoint against real WAL files, with a real writer process
// and a real reader process pinning the WAL.

#include "lib/jobs/checkpoint.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "lib/inspect/db_stats.h"
#include "lib/wal/checkpoint.h"
#include "tests/support/job_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;

ResolvedDatabase Db(const std::string& path) { return test::TestDbEntry(path, FileStem(path)); }
Result<JobReport> RunJob(const ResolvedDatabase& db, Connection& conn) {
  return test::RunJobOnce(*MakeCheckpointJob(db), db, conn);
}

// A separate process holding a read transaction on `db` (pinning the WAL) until destroyed.
// Forked without exec: call it only while this process has no SQLite connection open on
// `db`, so the child inherits none of SQLite's per-file lock bookkeeping.
class ReaderProcess {
 public:
  explicit ReaderProcess(const std::string& db) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      close(fds[0]);
      sqlite3* h = nullptr;
      char ok = 'n';
      if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK &&
          sqlite3_exec(h, "BEGIN; SELECT count(*) FROM items;", nullptr, nullptr, nullptr) ==
              SQLITE_OK) {
        ok = 'y';
      }
      (void)!write(fds[1], &ok, 1);
      while (true) pause();
    }
    close(fds[1]);
    pollfd p{fds[0], POLLIN, 0};
    char c = 0;
    if (poll(&p, 1, 10000) == 1 && read(fds[0], &c, 1) == 1) ready_ = c == 'y';
    close(fds[0]);
  }
  ~ReaderProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

// A WAL database whose WAL holds uncheckpointed frames, kept open by the returned
// connection (the last connection to close would checkpoint and delete the WAL).
Connection WalWithFrames(const std::string& path) {
  test::MakeWalDb(path, 200);
  Connection conn = test::OpenTestDb(path);
  EXPECT_TRUE(conn.QueryInt("SELECT count(*) FROM items").ok());
  test::ExecSql(path, "INSERT INTO items(body) SELECT body FROM items");
  EXPECT_GT(FileSize(path + "-wal"), 0);
  return conn;
}

TEST(CheckpointJob, PassiveReportsFrames) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  Connection conn = WalWithFrames(path);
  auto report = RunJob(Db(path), conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->checks.size(), 1u);
  const CheckRow& row = report->checks[0];
  EXPECT_EQ(row.check_type, "checkpoint");
  EXPECT_EQ(row.status, HealthStatus::kHealthy);
  EXPECT_EQ(row.details.at("mode"), "passive");
  EXPECT_EQ(row.details.at("busy"), false);
  EXPECT_EQ(row.details.at("fell_back"), false);
  EXPECT_GT(row.details.at("log_frames").get<int64_t>(), 0);
  EXPECT_EQ(row.details.at("checkpointed_frames"), row.details.at("log_frames"));
  EXPECT_GT(row.details.at("wal_bytes_before").get<int64_t>(), 0);
  EXPECT_GT(row.details.at("wal_bytes_after").get<int64_t>(), 0);  // PASSIVE never truncates
  EXPECT_TRUE(row.details.contains("duration_ms"));
  EXPECT_FALSE(report->metrics.empty());
  // The frames really went back into the main file: a fresh reader sees all rows.
  EXPECT_EQ(test::QueryInt(path, "SELECT count(*) FROM items"), 400);
}

TEST(CheckpointJob, TruncatesWhenWalAboveThreshold) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  Connection conn = WalWithFrames(path);
  ResolvedDatabase db = Db(path);
  db.policy.checkpoint.truncate_wal_above = 1024;
  auto report = RunJob(db, conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const CheckRow& row = report->checks[0];
  EXPECT_EQ(row.status, HealthStatus::kHealthy);
  EXPECT_EQ(row.details.at("mode"), "truncate");
  EXPECT_EQ(row.details.at("configured_mode"), "passive");
  EXPECT_EQ(row.details.at("escalated"), true);
  EXPECT_EQ(row.details.at("busy"), false);
  // What was really copied, not SQLite's 0/0 of a reset log.
  EXPECT_GT(row.details.at("log_frames").get<int64_t>(), 0);
  EXPECT_EQ(row.details.at("checkpointed_frames"), row.details.at("log_frames"));
  EXPECT_EQ(row.details.at("wal_bytes_after"), 0);
  EXPECT_EQ(FileSize(path + "-wal"), 0);
  EXPECT_EQ(conn.busy_timeout(), 5s);  // the short wait was temporary
}

TEST(CheckpointJob, StaysPassiveBelowThreshold) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  Connection conn = WalWithFrames(path);
  auto report = RunJob(Db(path), conn);  // default threshold 64MiB
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->checks[0].details.at("mode"), "passive");
  EXPECT_FALSE(report->checks[0].details.contains("escalated"));
}

// The scheduled checkpoint keeps no state, so every database shares one instance (10,000
// tenants do not each hold a copy): each run must follow its own database's policy, not the
// policy of the database the instance was first made for.
TEST(CheckpointJob, OneSharedInstanceFollowsEachRunsPolicy) {
  test::TempDir dir;
  std::string low = dir.File("low.db"), high = dir.File("high.db");
  ResolvedDatabase escalates = Db(low);
  escalates.policy.checkpoint.truncate_wal_above = 1024;
  ResolvedDatabase stays = Db(high);  // default threshold 64MiB
  std::shared_ptr<Job> job = MakeCheckpointJob(stays);
  ASSERT_EQ(job, MakeCheckpointJob(escalates)) << "the scheduled job is one instance";
  {
    Connection conn = WalWithFrames(low);
    auto report = test::RunJobOnce(*job, escalates, conn);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->checks[0].details.at("mode"), "truncate");
  }
  Connection conn = WalWithFrames(high);
  auto report = test::RunJobOnce(*job, stays, conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->checks[0].details.at("mode"), "passive");
  // A command's options make an instance of their own.
  CheckpointJobOptions by_hand;
  by_hand.by_hand = true;
  EXPECT_NE(MakeCheckpointJob(stays, by_hand), job);
}

// TRUNCATE blocked by a reader in another process gives up after `wait`, having done the
// PASSIVE part, while a writer process keeps committing and only ever waits about `wait`.
TEST(CheckpointJob, TruncateFallsBackOnPinnedWalWithoutStallingWriter) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 200);
  test::Writer writer(path, dir.path(), 5);
  ASSERT_TRUE(writer.WaitForCommits(20, 10s));
  ReaderProcess reader(path);  // no connection of ours is open on `path` yet
  ASSERT_TRUE(reader.ready());
  ASSERT_TRUE(writer.WaitForCommits(60, 10s));  // frames beyond the reader's snapshot

  Connection conn = test::OpenTestDb(path);
  auto t0 = std::chrono::steady_clock::now();
  auto r = RunCheckpoint(conn, CheckpointMode::kTruncate, 200ms);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->busy);
  EXPECT_TRUE(r->fell_back);
  EXPECT_EQ(r->mode_used, CheckpointMode::kTruncate);
  EXPECT_GT(r->log_frames, 0);
  EXPECT_LT(r->checkpointed_frames, r->log_frames);  // the reader pins the tail
  EXPECT_GT(r->wal_bytes_after, 0);
  EXPECT_GE(took, 150ms);   // it did wait for the reader...
  EXPECT_LT(took, 1000ms);  // ...but only about `wait`
  EXPECT_EQ(conn.busy_timeout(), 5s);

  // The job does not escalate to a TRUNCATE that could only wait for the reader (issue 13):
  // it runs PASSIVE, says whom it waits for, and warns (the WAL is above truncate_wal_above
  // and cannot be reset). Once the writer got going again, so that waits would not add up.
  auto commits = [&] {
    std::string text = test::ReadFile(writer.committed_file());
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  };
  ASSERT_TRUE(writer.WaitForCommits(commits() + 10, 10s));
  ResolvedDatabase db = Db(path);
  db.policy.checkpoint.truncate_wal_above = 1;
  auto report = RunJob(db, conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->status, HealthStatus::kWarning);
  EXPECT_EQ(report->checks[0].status, HealthStatus::kWarning);
  const nlohmann::json& d = report->checks[0].details;
  EXPECT_EQ(d.at("mode"), "passive") << d.dump();
  EXPECT_EQ(d.at("escalated"), false);
  EXPECT_FALSE(d.contains("wait_ms"));
  EXPECT_NE(d.at("waiting_for").get<std::string>().find("pid " + std::to_string(reader.pid())),
            std::string::npos)
      << d.dump();

  ASSERT_TRUE(writer.WaitForCommits(commits() + 20, 10s));
  nlohmann::json summary = writer.Stop();
  EXPECT_EQ(summary["errors"], 0) << summary.dump();
  EXPECT_GT(summary["commits"].get<int64_t>(), 80);
  EXPECT_LT(summary["max_ms"].get<double>(), 1000.0) << summary.dump();
}

TEST(CheckpointJob, SkipsNonWalDatabase) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::ExecSql(path, "PRAGMA journal_mode=DELETE; CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  Connection conn = test::OpenTestDb(path);
  auto report = RunJob(Db(path), conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->checks.size(), 1u);
  EXPECT_EQ(report->checks[0].status, HealthStatus::kHealthy);
  EXPECT_EQ(report->checks[0].details.at("skipped"), "not in WAL mode");
  EXPECT_TRUE(report->metrics.empty());
}

TEST(CheckpointJob, SkipsLitestreamDatabase) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 200);
  test::ExecSql(path, "CREATE TABLE _litestream_seq(id INTEGER PRIMARY KEY, seq INTEGER);");
  Connection conn = WalWithFrames(path);
  int64_t wal_before = FileSize(path + "-wal");
  ResolvedDatabase db = Db(path);
  db.policy.checkpoint.truncate_wal_above = 1;  // would truncate if it ran
  auto report = RunJob(db, conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->checks[0].status, HealthStatus::kHealthy);
  EXPECT_EQ(report->checks[0].details.at("skipped"), "litestream");
  EXPECT_EQ(FileSize(path + "-wal"), wal_before);
}

TEST(RunCheckpoint, NotWalGivesMinusOne) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::ExecSql(path, "PRAGMA journal_mode=DELETE; CREATE TABLE t(x);");
  Connection conn = test::OpenTestDb(path);
  auto r = RunCheckpoint(conn, CheckpointMode::kTruncate, 200ms);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->busy);
  EXPECT_EQ(r->log_frames, -1);
  EXPECT_EQ(r->checkpointed_frames, -1);
}

TEST(RunCheckpoint, RefusesInsideTransaction) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  Connection conn = WalWithFrames(path);
  ASSERT_TRUE(conn.Exec("BEGIN").ok());
  auto r = RunCheckpoint(conn, CheckpointMode::kPassive, 200ms);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailed);
  ASSERT_TRUE(conn.Exec("ROLLBACK").ok());
}

}  // namespace
}  // namespace maintd
