// Disk faults injected under the real jobs, in-process, through the faulty VFS
// (tests/support/faulty_vfs.h): SQLITE_FULL or SQLITE_IOERR_WRITE once N bytes are written,
// SQLITE_IOERR_FSYNC on the Nth sync. Each job runs through MaintainedDatabase::Run as the
// daemon runs it, with a central journal (whose file is not faulted) so the outcome is
// recorded. For every job and fault: the run fails cleanly (an error, recorded critical),
// the application's data is unchanged (content digest; batch jobs: whole batches only),
// integrity_check is ok, no temp file is left behind, this process is alive, and once the
// fault is gone the next run succeeds.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "lib/jobs/analyze.h"
#include "lib/jobs/backup.h"
#include "lib/jobs/checkpoint.h"
#include "lib/jobs/health.h"
#include "lib/jobs/lease_requeue.h"
#include "lib/jobs/maintained_database.h"
#include "lib/jobs/retention.h"
#include "lib/jobs/vacuum.h"
#include "tests/reliability/reliability_util.h"
#include "tests/support/faulty_vfs.h"

namespace maintd::test {
namespace {

struct Fault {
  FaultKind kind;
  int64_t after_bytes;
  int64_t nth_sync;
};
// The faults every job is put through: disk full at the first write and at the second page
// (a WAL frame is 24 + 4096 bytes), a write error at the third page, the first fsync
// failing. Jobs that write a lot also get kLateFault.
const Fault kFaults[] = {
    {FaultKind::kDiskFull, 0, 0},
    {FaultKind::kDiskFull, 4200, 0},
    {FaultKind::kWriteError, 8300, 0},
    {FaultKind::kSyncError, 0, 1},
};
const Fault kLateFault = {FaultKind::kDiskFull, 64 * 1024, 0};

// Whether nothing at all can have been committed before the fault hit.
bool FailsFirstCommit(const Fault& f) {
  return f.kind == FaultKind::kSyncError ? f.nth_sync == 1 : f.after_bytes == 0;
}

std::string Describe(const Fault& f) {
  return std::string(ToString(f.kind)) + " after " + std::to_string(f.after_bytes) +
         " bytes / sync #" + std::to_string(f.nth_sync);
}

class FaultInjectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(FaultyVfs::Install()); }

  void SetUp() override {
    db_path_ = dir_.File("app.db");
    journal_ = dir_.File("journal.db");
  }

  std::unique_ptr<MaintainedDatabase> Acquire(const ResolvedDatabase& db) {
    MaintainerOptions options;
    options.journal.central_path = journal_;
    auto m = MaintainedDatabase::Acquire(db, options);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    // The central journal as a running daemon has it (the runner creates its tables at the
    // first write), so a file it creates never looks like a temp file left behind.
    auto central = Connection::Open(journal_, {.create = true});
    EXPECT_TRUE(central.ok() && Journal::CreateTables(*central).ok());
    return m.ok() ? std::move(m).value() : nullptr;
  }

  // Runs `job` under `fault` on files whose path contains `filter` and checks that the run
  // failed cleanly: the fault was hit, the run returned an I/O error recorded critical in
  // the journal, the files in `unchanged` hold the same content, the database passes
  // integrity_check and no file was left behind.
  JobOutcome RunUnderFault(MaintainedDatabase& md, Job& job, const Fault& fault,
                           const std::string& filter, const std::vector<std::string>& unchanged) {
    std::vector<std::string> before;
    for (const auto& f : unchanged) before.push_back(ContentDigest(f));
    auto files_before = DirEntries(dir_.path());
    JobOutcome out;
    int64_t injected = 0;
    {
      ScopedFault scoped({fault.kind, fault.after_bytes, fault.nth_sync, filter});
      StopToken stop;
      out = md.Run(job, JobTrigger::kOnce, stop);
      injected = FaultyVfs::faults_injected();
    }
    EXPECT_GT(injected, 0) << "the fault was never hit: the job wrote nothing to " << filter;
    EXPECT_FALSE(out.error.ok()) << "the run did not fail: " << out.report.summary;
    EXPECT_EQ(out.status, HealthStatus::kCritical) << out.error.ToString();
    EXPECT_EQ(out.error.code(), StatusCode::kIoError) << out.error.ToString();
    EXPECT_FALSE(out.skipped);
    ++runs_;
    EXPECT_EQ(QueryText(journal_, "SELECT status FROM sqlite_health_checks WHERE check_type = '" +
                                      job.journal_key() + "' ORDER BY id DESC LIMIT 1"),
              "critical");
    for (size_t i = 0; i < unchanged.size(); ++i) {
      EXPECT_EQ(ContentDigest(unchanged[i]), before[i]) << unchanged[i] << " changed";
    }
    EXPECT_EQ(QueryText(db_path_, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(DirEntries(dir_.path()), files_before) << "a temp file was left behind";
    return out;
  }

  // The next run, the fault gone: it succeeds.
  JobOutcome RunClean(MaintainedDatabase& md, Job& job) {
    StopToken stop;
    JobOutcome out = md.Run(job, JobTrigger::kOnce, stop);
    EXPECT_TRUE(out.error.ok()) << "the run after the fault failed: " << out.error.ToString();
    EXPECT_NE(out.status, HealthStatus::kCritical) << out.report.summary;
    return out;
  }

  TempDir dir_;
  std::string db_path_, journal_;
  int runs_ = 0;
};

TEST_F(FaultInjectionTest, CheckpointFailsCleanly) {
  MakeWalDb(db_path_, 2000, 400);
  ResolvedDatabase db = ReliabilityDb(db_path_);
  auto md = Acquire(db);
  ASSERT_TRUE(md);
  auto job = MakeCheckpointJob(db);
  HeldConnection app(db_path_);  // keeps the WAL from being checkpointed on close
  for (const Fault& f : kFaults) {
    SCOPED_TRACE(Describe(f));
    // Fresh frames in the WAL for the checkpoint to copy into the database file, some of
    // them past its end (a full disk refuses only new blocks).
    app.Exec(
        "PRAGMA wal_autocheckpoint=0; UPDATE items SET body = body || 'x' WHERE id % 3 = 0;"
        "INSERT INTO items(body) SELECT body FROM items LIMIT 300;");
    RunUnderFault(*md, *job, f, "/app.db", {db_path_});
    RunClean(*md, *job);
  }
  EXPECT_EQ(runs_, 4);
}

TEST_F(FaultInjectionTest, AnalyzeFailsCleanlyAndCommitsNothing) {
  MakeWalDb(db_path_, 3000, 100);
  ExecSql(db_path_, "CREATE INDEX items_body ON items(body);");
  ResolvedDatabase db = ReliabilityDb(db_path_);
  auto md = Acquire(db);
  ASSERT_TRUE(md);
  auto job = MakeAnalyzeJob(db);
  // ANALYZE writes two or three pages: its faults come early. (A later one would hit only
  // the checkpoint SQLite attempts when the connection closes, after the commit.)
  for (const Fault& f :
       {kFaults[0], kFaults[1], Fault{FaultKind::kWriteError, 4200, 0}, kFaults[3]}) {
    SCOPED_TRACE(Describe(f));
    ExecSql(db_path_, "DROP TABLE IF EXISTS sqlite_stat1;");
    RunUnderFault(*md, *job, f, "/app.db", {db_path_});
    // Rolled back: no statistics (the digest skips sqlite_stat1, so check it here).
    EXPECT_EQ(QueryInt(db_path_,
                       "SELECT count(*) FROM sqlite_master WHERE name = "
                       "'sqlite_stat1'"),
              0);
    RunClean(*md, *job);
  }
  EXPECT_GT(QueryInt(db_path_, "SELECT count(*) FROM sqlite_stat1"), 0);
}

TEST_F(FaultInjectionTest, IncrementalVacuumFailsCleanlyAndIsLoggedFailed) {
  ExecSql(db_path_,
          "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;"
          "CREATE TABLE items(id INTEGER PRIMARY KEY, body BLOB);");
  ResolvedDatabase db = ReliabilityDb(db_path_);
  db.policy.vacuum.trigger_free_ratio = 0.01;
  db.policy.vacuum.min_free_pages = 10;
  db.policy.vacuum.pages_per_step = 20;
  db.policy.vacuum.pause_between_steps = Millis(0);
  auto md = Acquire(db);
  ASSERT_TRUE(md);
  auto job = MakeVacuumJob(db);
  for (const Fault& f : {kFaults[0], kFaults[1], kFaults[2], kFaults[3], kLateFault}) {
    ExecSql(db_path_,
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<800)"
            " INSERT INTO items(body) SELECT randomblob(1500) FROM c;"
            "DELETE FROM items WHERE id % 4 <> 0;");
    ASSERT_GT(QueryInt(db_path_, "PRAGMA freelist_count"), 100);
    SCOPED_TRACE(Describe(f));
    RunUnderFault(*md, *job, f, "/app.db", {db_path_});
    RunClean(*md, *job);
    EXPECT_LT(QueryInt(db_path_, "PRAGMA freelist_count"), 10);
    // One failed row for the faulted run (with its error), one completed for the next.
    EXPECT_EQ(QueryText(journal_,
                        "SELECT status FROM sqlite_vacuum_log ORDER BY id DESC "
                        "LIMIT 1 OFFSET 1"),
              "failed");
    EXPECT_NE(QueryText(journal_,
                        "SELECT coalesce(error_message, '') FROM sqlite_vacuum_log "
                        "ORDER BY id DESC LIMIT 1 OFFSET 1"),
              "");
    EXPECT_EQ(QueryText(journal_,
                        "SELECT status FROM sqlite_vacuum_log ORDER BY id DESC "
                        "LIMIT 1"),
              "completed");
  }
  EXPECT_EQ(QueryInt(journal_,
                     "SELECT count(*) FROM sqlite_vacuum_log WHERE status = "
                     "'running'"),
            0);
}

TEST_F(FaultInjectionTest, FullVacuumConversionRollsBack) {
  ExecSql(db_path_,
          "PRAGMA journal_mode=WAL; CREATE TABLE items(id INTEGER PRIMARY KEY, body BLOB);"
          "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<600)"
          " INSERT INTO items(body) SELECT randomblob(1500) FROM c;"
          "DELETE FROM items WHERE id % 2 = 0;");
  ResolvedDatabase db = ReliabilityDb(db_path_);
  db.policy.vacuum.convert_auto_vacuum = ConvertAutoVacuum::kTrue;
  db.policy.vacuum.min_free_disk_factor = 0;
  auto md = Acquire(db);
  ASSERT_TRUE(md);
  auto job = MakeVacuumJob(db);
  // One fault at a time on a NONE database: the conversion is all or nothing.
  for (const Fault& f : {kFaults[0], kFaults[1], kFaults[2], kFaults[3], kLateFault}) {
    ASSERT_EQ(QueryInt(db_path_, "PRAGMA auto_vacuum"), 0);
    int64_t free_before = QueryInt(db_path_, "PRAGMA freelist_count");
    std::string before = ContentDigest(db_path_);
    {
      ScopedFault scoped({f.kind, f.after_bytes, f.nth_sync, "/app.db"});
      StopToken stop;
      JobOutcome out = md->Run(*job, JobTrigger::kOnce, stop);
      EXPECT_GT(FaultyVfs::faults_injected(), 0);
      EXPECT_FALSE(out.error.ok()) << Describe(f);
      EXPECT_EQ(out.status, HealthStatus::kCritical);
    }
    EXPECT_EQ(QueryInt(db_path_, "PRAGMA auto_vacuum"), 0) << Describe(f);
    EXPECT_EQ(QueryInt(db_path_, "PRAGMA freelist_count"), free_before) << Describe(f);
    EXPECT_EQ(ContentDigest(db_path_), before);
    EXPECT_EQ(QueryText(db_path_, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(QueryText(journal_,
                        "SELECT status FROM sqlite_vacuum_log ORDER BY id DESC "
                        "LIMIT 1"),
              "failed");
  }
  StopToken stop;
  JobOutcome out = md->Run(*job, JobTrigger::kOnce, stop);
  EXPECT_TRUE(out.error.ok()) << out.error.ToString();
  EXPECT_EQ(QueryInt(db_path_, "PRAGMA auto_vacuum"), 2);
}

TEST_F(FaultInjectionTest, BackupFailsCleanlyAndKeepsTheGoodBackups) {
  MakeWalDb(db_path_, 3000, 300);
  ResolvedDatabase db = ReliabilityDb(db_path_);
  db.policy.backup.keep = 2;
  db.policy.backup.dir = dir_.File("backups");
  auto md = Acquire(db);
  ASSERT_TRUE(md);
  BackupJobOptions options;
  options.free_bytes = [](const std::string&) -> Result<int64_t> { return int64_t{1} << 40; };
  options.chunk_bytes = 64 * 1024;
  auto job = MakeBackupJob(db, options);
  StopToken stop;
  ASSERT_TRUE(md->Run(*job, JobTrigger::kOnce, stop).error.ok());
  std::vector<std::string> good;
  for (const auto& name : DirEntries(db.policy.backup.dir)) {
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".db") == 0) good.push_back(name);
  }
  ASSERT_EQ(good.size(), 1u);
  // The destination is written through SQLite (the faulty VFS); its fsyncs are plain file
  // calls (online_backup.h), which a VFS cannot reach: only write faults apply.
  for (const Fault& f : {kFaults[0], kFaults[1], kFaults[2], kLateFault}) {
    SCOPED_TRACE(Describe(f));
    auto listing = DirEntries(db.policy.backup.dir);
    {
      ScopedFault scoped({f.kind, f.after_bytes, f.nth_sync, "/backups/"});
      JobOutcome out = md->Run(*job, JobTrigger::kOnce, stop);
      EXPECT_GT(FaultyVfs::faults_injected(), 0);
      EXPECT_FALSE(out.error.ok());
      EXPECT_EQ(out.status, HealthStatus::kCritical);
    }
    // No temp file, nothing rotated away, the good backup intact.
    EXPECT_EQ(DirEntries(db.policy.backup.dir), listing);
    for (const auto& name : good) {
      EXPECT_EQ(QueryText(db.policy.backup.dir + "/" + name, "PRAGMA integrity_check"), "ok");
    }
  }
  EXPECT_EQ(QueryInt(journal_,
                     "SELECT count(*) FROM sqlite_health_checks WHERE check_type = "
                     "'backup' AND status = 'critical'"),
            4);
}

TEST_F(FaultInjectionTest, LeaseRequeueFailsCleanly) {
  int64_t now = static_cast<int64_t>(time(nullptr));
  ExecSql(db_path_,
          "PRAGMA journal_mode=WAL;"
          "CREATE TABLE tasks(id INTEGER PRIMARY KEY, status TEXT, lease_expires_at "
          "INTEGER, leased_by TEXT, attempts INTEGER DEFAULT 0, payload BLOB);");
  ResolvedDatabase db = ReliabilityDb(db_path_);
  LeaseRequeueRule rule;
  rule.table = "tasks";
  rule.owner_column = "leased_by";
  rule.attempts_column = "attempts";
  rule.batch = 50;
  db.lease_requeue = {rule};
  auto md = Acquire(db);
  ASSERT_TRUE(md);
  auto job = MakeLeaseRequeueJob(db, 0);
  for (const Fault& f : kFaults) {
    ExecSql(db_path_,
            "DELETE FROM tasks; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT "
            "i+1 FROM c WHERE i<400) INSERT INTO tasks(status, lease_expires_at, "
            "leased_by, payload) SELECT 'leased', " +
                std::to_string(now - 60) + ", 'w', randomblob(200) FROM c;");
    SCOPED_TRACE(Describe(f));
    // Each batch is its own transaction: batches before the fault stay committed, the one
    // that met it is rolled back whole.
    RunUnderFault(
        *md, *job, f, "/app.db",
        FailsFirstCommit(f) ? std::vector<std::string>{db_path_} : std::vector<std::string>{});
    int64_t leased = QueryInt(db_path_, "SELECT count(*) FROM tasks WHERE status = 'leased'");
    EXPECT_EQ(leased % 50, 0) << "a batch was half applied";
    EXPECT_GT(leased, 0);
    EXPECT_EQ(QueryInt(db_path_,
                       "SELECT count(*) FROM tasks WHERE status = 'queued' AND "
                       "attempts = 1 AND leased_by IS NULL"),
              400 - leased);
    RunClean(*md, *job);
    EXPECT_EQ(QueryInt(db_path_, "SELECT count(*) FROM tasks WHERE status = 'queued'"), 400);
    EXPECT_EQ(QueryInt(db_path_, "SELECT max(attempts) FROM tasks"), 1) << "requeued twice";
  }
}

TEST_F(FaultInjectionTest, RetentionWithArchiveFailsCleanlyAndLosesNothing) {
  int64_t now = static_cast<int64_t>(time(nullptr));
  std::string archive = dir_.File("archive.db");
  // A fresh sentinel row keeps max(id) from going back: without AUTOINCREMENT, SQLite reuses
  // the ids of deleted rows, and the archive would already hold different rows under them
  // (counted as archive_conflicts and left alone, by design).
  ExecSql(db_path_,
          "PRAGMA journal_mode=WAL; CREATE TABLE events(id INTEGER PRIMARY KEY, "
          "created_at INTEGER, body BLOB);"
          "INSERT INTO events VALUES (1000000, " +
              std::to_string(now) + ", 'keep');");
  ResolvedDatabase db = ReliabilityDb(db_path_);
  RetentionRule rule;
  rule.table = "events";
  rule.archive_after = Millis(24h);
  rule.archive_to = archive;
  rule.delete_after = Millis(48h);
  rule.batch = 50;
  rule.pause_between_batches = Millis(0);
  db.retention = {rule};
  auto md = Acquire(db);
  ASSERT_TRUE(md);
  auto job = MakeRetentionJob(db, 0);
  int64_t next_id = 1;
  auto add_old_rows = [&] {
    ExecSql(db_path_,
            "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE "
            "i<299) INSERT INTO events(id, created_at, body) SELECT " +
                std::to_string(next_id) + " + i, " + std::to_string(now - 3 * 86400) +
                ", randomblob(300) FROM c;");
    next_id += 300;
  };
  // The first run creates the archive file, so that faults can target it.
  add_old_rows();
  RunClean(*md, *job);
  int64_t total = 300;
  // Faults on the archive (the copy fails: nothing is deleted) and on the database (the
  // delete fails: the rows stay, already archived).
  for (const char* target : {"/archive.db", "/app.db"}) {
    for (const Fault& f : {kFaults[0], kFaults[1], kFaults[2], kFaults[3], kLateFault}) {
      SCOPED_TRACE(std::string(target) + " " + Describe(f));
      add_old_rows();
      total += 300;
      bool archive_fault = std::string(target) == "/archive.db";
      // An archive fault stops the run before anything is deleted. A database fault stops
      // it in the delete phase, where earlier batches may have committed.
      RunUnderFault(*md, *job, f, target,
                    archive_fault || FailsFirstCommit(f) ? std::vector<std::string>{db_path_}
                                                         : std::vector<std::string>{});
      // Whatever happened: every old row is in the source or in the archive (or both, then
      // identical), and in the archive at most once.
      EXPECT_EQ(QueryAttached(db_path_, archive,
                              "SELECT count(*) FROM (SELECT id FROM main.events WHERE id < "
                              "1000000 UNION SELECT id FROM a.events)"),
                total);
      EXPECT_EQ(QueryAttached(db_path_, archive,
                              "SELECT count(*) FROM main.events m JOIN a.events e USING (id) "
                              "WHERE m.body IS NOT e.body OR m.created_at IS NOT e.created_at"),
                0);
      EXPECT_EQ(QueryInt(archive, "SELECT count(*) - count(DISTINCT id) FROM events"), 0);
      RunClean(*md, *job);
      // Done: every old row is in the archive exactly once and gone from the source.
      EXPECT_EQ(QueryInt(archive, "SELECT count(*) FROM events"), total);
      EXPECT_EQ(QueryInt(archive, "SELECT count(DISTINCT id) FROM events"), total);
      EXPECT_EQ(QueryInt(db_path_, "SELECT count(*) FROM events"), 1);
      EXPECT_EQ(QueryText(archive, "PRAGMA integrity_check"), "ok");
    }
  }
}

TEST_F(FaultInjectionTest, HealthSurvivesAnUnwritableJournal) {
  // The journal inside the database itself ("target"), on a disk that is full: the health
  // check still runs and reports; only the journal write fails (logged), never the job.
  MakeWalDb(db_path_, 500, 100);
  ResolvedDatabase db = ReliabilityDb(db_path_);
  auto m = MaintainedDatabase::Acquire(db, MaintainerOptions{});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto job = MakeHealthJob(db);
  {  // the journal tables as an earlier run left them: the fault hits the row writes
    auto conn = Connection::Open(db_path_);
    ASSERT_TRUE(conn.ok() && Journal::CreateTables(*conn).ok());
  }
  std::string before = ContentDigest(db_path_);
  int64_t rows_before = QueryInt(db_path_, "SELECT count(*) FROM sqlite_health_checks");
  for (const Fault& f : {kFaults[0], kFaults[3]}) {
    SCOPED_TRACE(Describe(f));
    ScopedFault scoped({f.kind, f.after_bytes, f.nth_sync, "/app.db"});
    StopToken stop;
    JobOutcome out = (*m)->Run(*job, JobTrigger::kOnce, stop);
    EXPECT_TRUE(out.error.ok()) << out.error.ToString();
    EXPECT_NE(out.status, HealthStatus::kCritical) << out.report.summary;
    EXPECT_GT(FaultyVfs::faults_injected(), 0) << "the journal write never hit the fault";
  }
  EXPECT_EQ(ContentDigest(db_path_), before);
  EXPECT_EQ(QueryInt(db_path_, "SELECT count(*) FROM sqlite_health_checks"), rows_before);
  EXPECT_EQ(QueryText(db_path_, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace maintd::test
