// First contact (issue 14): the checkpoint and the vacuum check may skip their very first
// run when the files alone prove there is nothing to do (Job::NothingToDo), so 10,000 idle
// tenants cost one real run each (health), not three. These tests pin the other side: the
// proof fails, and the job opens the database, whenever the files do not prove it.
// Opens are counted by the process-wide connection registry (lib/sqlite/open_files.h).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "lib/jobs/checkpoint.h"
#include "lib/jobs/health.h"
#include "lib/jobs/journal_prune.h"
#include "lib/jobs/maintained_database.h"
#include "lib/jobs/vacuum.h"
#include "lib/sqlite/open_files.h"
#include "tests/support/job_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

class FirstContact : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("tenant.db");
    test::MakeWalDb(path_, 200);
    db_ = test::TestDbEntry(path_);
    db_.policy.vacuum.trigger_free_ratio = 0.1;
    db_.policy.vacuum.min_free_pages = 10;
  }
  // A fresh maintainer (a daemon start), then one scheduled run of `job`: true when it
  // opened the database (a real run), false when it skipped from the files.
  bool Opens(std::shared_ptr<Job> job) {
    auto mdb = MaintainedDatabase::Acquire(db_, MaintainerOptions{});
    EXPECT_TRUE(mdb.ok()) << mdb.status().ToString();
    if (!mdb.ok()) return false;
    const int64_t before = ConnectionsOpenedOn(path_);
    JobOutcome out = (*mdb)->Run(*job, JobTrigger::kScheduled, stop_);
    EXPECT_TRUE(out.error.ok()) << out.error.ToString();
    const bool opened = ConnectionsOpenedOn(path_) > before;
    EXPECT_EQ(opened, out.skip_reason != "unchanged") << out.report.summary;
    return opened;
  }
  // Frees about `pages` pages (a table of 4 KiB rows dropped): the header's freelist.
  void FreePages(int pages) {
    test::ExecSql(path_,
                  "CREATE TABLE scratch(b BLOB);"
                  "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<" +
                      std::to_string(pages) +
                      ") INSERT INTO scratch SELECT randomblob(4000) FROM c;"
                      "DROP TABLE scratch;");
  }
  // Leaves frames in the -wal after the writer closes (SQLITE_FCNTL_PERSIST_WAL): the main
  // file's header may be older than the WAL's page 1.
  void LeaveWalFrames() {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &h), SQLITE_OK);
    int persist = 1;
    sqlite3_file_control(h, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    ASSERT_EQ(sqlite3_exec(h, "INSERT INTO items(body) VALUES ('w')", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(h);
    ASSERT_TRUE(ReadFileSignature(path_).WalHasFrames());
  }

  test::TempDir dir_;
  std::string path_;
  ResolvedDatabase db_;
  StopToken stop_;
};

TEST_F(FirstContact, ACleanDatabaseBelowTheTriggerIsNotOpenedByCheckpointOrVacuum) {
  EXPECT_FALSE(Opens(MakeCheckpointJob(db_)));
  EXPECT_FALSE(Opens(MakeVacuumJob(db_)));
}

TEST_F(FirstContact, FreePagesAboveTheTriggerAreVacuumedAtFirstContact) {
  FreePages(60);
  ASSERT_GE(ReadFileSignature(path_).header->freelist_count, 10);
  EXPECT_TRUE(Opens(MakeVacuumJob(db_)));
}

TEST_F(FirstContact, WalFramesMakeBothJobsLookForReal) {
  FreePages(60);  // then the header below is stale: it cannot prove "below trigger"
  LeaveWalFrames();
  EXPECT_TRUE(Opens(MakeCheckpointJob(db_)));
  LeaveWalFrames();
  db_.policy.vacuum.min_free_pages = 1000000;  // even a header far below the trigger
  EXPECT_TRUE(Opens(MakeVacuumJob(db_)));
}

TEST_F(FirstContact, ConvertAutoVacuumTrueIsNotProvenFromTheHeader) {
  // An auto_vacuum=none database may be converted in its convert_at window below the
  // trigger: only the real check knows.
  db_.policy.vacuum.convert_auto_vacuum = ConvertAutoVacuum::kTrue;
  ASSERT_EQ(ReadFileSignature(path_).header->auto_vacuum, 0);
  EXPECT_TRUE(Opens(MakeVacuumJob(db_)));
}

// journal_prune's work is rows past a retention: a journal with no row yet seeds it a full
// interval away ("now" as its last run), one with rows from their oldest, so a first
// contact never prunes and a daemon restarted hourly still prunes a day after that row.
TEST_F(FirstContact, JournalPruneIsSeededFromTheOldestJournalRow) {
  FakeClock clock(std::chrono::system_clock::now());
  MaintainerOptions options;
  options.clock = &clock;
  auto prune = MakeJournalPruneJob(db_);
  {
    auto mdb = MaintainedDatabase::Acquire(db_, options);
    ASSERT_TRUE(mdb.ok());
    EXPECT_EQ((*mdb)->LastRun(*prune), clock.Now()) << "no journal yet";
    auto health = MakeHealthJob(db_);
    ASSERT_TRUE((*mdb)->Run(*health, JobTrigger::kOnce, stop_).error.ok());  // journals rows
  }
  const SystemTime first_rows = clock.Now();
  clock.Advance(std::chrono::hours(30));
  auto mdb = MaintainedDatabase::Acquire(db_, options);  // a restart, 30 hours later
  ASSERT_TRUE(mdb.ok());
  auto last = (*mdb)->LastRun(*prune);
  ASSERT_TRUE(last.has_value());
  EXPECT_LE(std::chrono::abs(*last - first_rows), std::chrono::seconds(2))
      << "the oldest row (second precision in the journal) stands in for the last prune";
}

}  // namespace
}  // namespace maintd
