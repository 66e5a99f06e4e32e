// The retention job against real SQLite files: exact counts, keep_where, the three time
// formats with and without an index on the time column, archive-then-delete, archive
// conflicts, dry run.
#include "lib/jobs/retention.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/queue/retention_test_util.h"

namespace maintd {
namespace {

using test::ExecSql;
using test::NULL_STATUS;
using test::QueryInt;
using test::TempDir;

struct Variant {
  TimeFormat format;
  bool index;
};

class RetentionFormatTest : public test::RetentionFixture,
                            public ::testing::WithParamInterface<Variant> {};

TEST_P(RetentionFormatTest, DeletesOldRowsInBatchesAndNeverTouchesKeptRows) {
  rule_.time_format = GetParam().format;
  CreateEvents(GetParam().format, GetParam().index);
  InsertEvents(200, 100, "new");
  InsertEvents(50, 100, "in_progress");
  InsertEvents(100, 10, "new");
  InsertEvents(7, 91, NULL_STATUS);  // keep_where is NULL for these: not protected
  std::string kept_before = Digest("status = 'in_progress' OR age_days < 90");
  rule_.keep_where = "status = 'in_progress'";
  rule_.batch = 40;
  rule_.pause_between_batches = Millis(1);
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto d = test::Details(*r);
  EXPECT_EQ(d["deleted"], 207);
  EXPECT_EQ(d["archived"], 0);
  // 5 x 40 + 7, unless a slow batch (over 50 ms of lock) made the job shrink them.
  if (d.contains("smallest_batch")) {
    EXPECT_GT(d["batches"], 6);
  } else {
    EXPECT_EQ(d["batches"], 6);
  }
  EXPECT_EQ(d["dry_run"], false);
  EXPECT_EQ(d["table"], "events");
  EXPECT_EQ(d["skipped"], 0);
  EXPECT_EQ(r->status, HealthStatus::kHealthy);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM events"), 150);
  EXPECT_EQ(Digest("1"), kept_before);  // kept and young rows byte for byte unchanged
  auto again = Run();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(test::Details(*again)["deleted"], 0);
}

INSTANTIATE_TEST_SUITE_P(Formats, RetentionFormatTest,
                         ::testing::Values(Variant{TimeFormat::kUnix, true},
                                           Variant{TimeFormat::kUnix, false},
                                           Variant{TimeFormat::kUnixMs, true},
                                           Variant{TimeFormat::kIso8601, false},
                                           Variant{TimeFormat::kIso8601, true}),
                         [](const ::testing::TestParamInfo<Variant>& info) {
                           return std::string(ToString(info.param.format)) +
                                  (info.param.index ? "_indexed" : "_no_index");
                         });

class RetentionTest : public test::RetentionFixture {};

TEST_F(RetentionTest, ArchivesThenDeletesWithExactCounts) {
  CreateEvents(TimeFormat::kUnix, true);
  InsertEvents(120, 100, "new");    // archived and deleted
  InsertEvents(20, 100, "pinned");  // kept: neither
  InsertEvents(60, 60, "new");      // archived only
  InsertEvents(30, 10, "new");      // neither
  Snapshot();
  UseArchive();
  rule_.keep_where = "status = 'pinned'";
  rule_.batch = 25;
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto d = test::Details(*r);
  EXPECT_EQ(d["archived"], 180);
  EXPECT_EQ(d["deleted"], 120);
  // ceil(180/25) archive batches + ceil(120/25) deletes (more if deletes had to shrink).
  if (d.contains("smallest_batch")) {
    EXPECT_GT(d["batches"], 8 + 5);
  } else {
    EXPECT_EQ(d["batches"], 8 + 5);
  }
  EXPECT_EQ(d["archive_conflicts"], 0);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM events"), 110);
  EXPECT_EQ(QueryInt(archive_, "SELECT count(*) FROM events"), 180);
  ExpectNothingLostNothingDuplicated(180);
  EXPECT_EQ(Count("SELECT count(*) FROM arch.events WHERE status = 'pinned' OR age_days < 30"), 0);
  auto again = Run();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(test::Details(*again)["archived"], 0);
  EXPECT_EQ(test::Details(*again)["deleted"], 0);
}

TEST_F(RetentionTest, ArchiveKeepsTheRowidOfTablesWithoutIntegerPrimaryKey) {
  ExecSql(path_,
          "PRAGMA journal_mode=WAL; CREATE TABLE log(created_at INTEGER, age_days, "
          "msg TEXT COLLATE NOCASE, score REAL)");
  for (int i = 0; i < 30; ++i) {
    ExecSql(path_, "INSERT INTO log(rowid, created_at, age_days, msg, score) VALUES(" +
                       std::to_string(1000 + i * 7) + ", " +
                       std::to_string(NowSec() - 100 * 86400) + ", 100, 'Msg " + std::to_string(i) +
                       "', " + std::to_string(i) + ".25)");
  }
  Snapshot();
  UseArchive();
  rule_.table = "log";
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(test::Details(*r)["archived"], 30);
  EXPECT_EQ(test::Details(*r)["deleted"], 30);
  EXPECT_EQ(Count("SELECT count(*) FROM arch.log a JOIN snap.log s ON a.rowid = s.rowid AND "
                  "a.msg = s.msg COLLATE BINARY AND a.score = s.score"),
            30);
}

TEST_F(RetentionTest, RowWhoseArchiveSlotHoldsAnotherRowIsKept) {
  CreateEvents(TimeFormat::kUnix, false);
  InsertEvents(10, 100, "new");
  UseArchive();
  // The archive already holds a different row under rowid 1 (e.g. an earlier row whose
  // rowid the application reused), and an identical copy of row 2.
  ExecSql(archive_, ReadSchema("events"));
  ExecSql(archive_, "INSERT INTO events VALUES(1, 5, 'other', 'x', 100)");
  ExecSql(path_, "ATTACH '" + archive_ +
                     "' AS a; INSERT INTO a.events SELECT * FROM events "
                     "WHERE id = 2;");
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto d = test::Details(*r);
  EXPECT_EQ(d["archived"], 8);
  EXPECT_EQ(d["archive_conflicts"], 1);
  EXPECT_EQ(d["deleted"], 9);
  EXPECT_EQ(d["skipped"], 1);
  EXPECT_EQ(r->status, HealthStatus::kWarning);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM events WHERE id = 1"), 1);
  EXPECT_EQ(QueryInt(archive_, "SELECT count(*) FROM events WHERE id = 1 AND status = 'other'"), 1);
}

TEST_F(RetentionTest, PathsThroughSymlinksWork) {
  CreateEvents(TimeFormat::kUnix, true);
  InsertEvents(10, 100, "new");
  std::filesystem::create_directory(dir_.File("real"));
  std::filesystem::create_directory_symlink(dir_.File("real"), dir_.File("link"));
  std::filesystem::create_symlink(path_, dir_.File("app-link.db"));
  UseArchive();
  rule_.archive_to = dir_.File("link/archive.db");
  path_ = dir_.File("app-link.db");
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(test::Details(*r)["archived"], 10);
  EXPECT_EQ(test::Details(*r)["deleted"], 10);
  EXPECT_EQ(QueryInt(dir_.File("real/archive.db"), "SELECT count(*) FROM events"), 10);
}

TEST_F(RetentionTest, DryRunCountsAndChangesNothing) {
  CreateEvents(TimeFormat::kUnix, true);
  InsertEvents(120, 100, "new");
  InsertEvents(20, 100, "pinned");
  InsertEvents(60, 60, "new");
  InsertEvents(30, 10, "new");
  UseArchive();
  rule_.keep_where = "status = 'pinned'";
  rule_.dry_run = true;
  std::string before = Digest("1");
  std::string file_before = test::ReadFile(path_);
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto d = test::Details(*r);
  EXPECT_EQ(d["dry_run"], true);
  EXPECT_EQ(d["archived"], 180);
  EXPECT_EQ(d["deleted"], 120);
  EXPECT_EQ(d["batches"], 0);
  EXPECT_EQ(Digest("1"), before);
  EXPECT_EQ(test::ReadFile(path_), file_before);
  EXPECT_FALSE(std::filesystem::exists(archive_)) << "a dry run created the archive";
  // The counts are what a real run then does.
  rule_.dry_run = false;
  auto real = Run();
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(test::Details(*real)["archived"], 180);
  EXPECT_EQ(test::Details(*real)["deleted"], 120);
}

TEST_F(RetentionTest, StopRequestedEndsBeforeTheNextBatch) {
  CreateEvents(TimeFormat::kUnix, true);
  InsertEvents(50, 100, "new");
  StopToken stop;
  stop.RequestStop();
  auto r = Run(&stop);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(test::Details(*r)["deleted"], 0);
  EXPECT_EQ(test::Details(*r)["stopped"], true);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM events"), 50);
}

TEST_F(RetentionTest, WriterKeepsCommittingWhileRetentionRuns) {
  CreateEvents(TimeFormat::kUnix, true);
  InsertEvents(20000, 100, "new");
  rule_.batch = 500;
  rule_.pause_between_batches = Millis(5);
  clock_.SetRealSleeps(true);  // the pauses are what lets the writer in
  test::Writer writer(path_, dir_.path(), 5);
  ASSERT_TRUE(writer.WaitForCommits(10, std::chrono::seconds(10)));
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto summary = writer.Stop();
  auto d = test::Details(*r);
  EXPECT_EQ(d["deleted"], 20000) << d.dump();
  EXPECT_EQ(summary["errors"], 0) << summary.dump();
  EXPECT_GT(summary["commits"].get<int>(), 10) << summary.dump();
  // Latency figures belong to bench/retention_stall; here only a gross stall fails.
  EXPECT_LT(d["max_lock_hold_ms"].get<int>(), 5000) << d.dump();
}

}  // namespace
}  // namespace maintd
