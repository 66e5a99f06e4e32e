// The SIGTERM shutdown maintenance (CONTRACT.md section 5) at the library level: the
// daemon calls RunShutdownMaintenance with its deadline.
#include "lib/jobs/shutdown.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include "lib/inspect/db_stats.h"
#include "lib/jobs/health.h"
#include "lib/jobs/vacuum.h"
#include "tests/vacuum/vacuum_test_util.h"

namespace maintd::test {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t MsSince(SteadyClock::time_point t) {
  return std::chrono::duration_cast<Millis>(SteadyClock::now() - t).count();
}

// A good quick_check recorded now (the health job, through the runner), as the daemon has
// after running a while, so the shutdown does not spend its time on one.
void MarkChecked(MaintainedDatabase& mdb) {
  StopToken stop;
  auto health = MakeHealthJob(mdb.db());
  JobOutcome out = mdb.Run(*health, JobTrigger::kScheduled, stop);
  ASSERT_TRUE(out.error.ok()) << out.error.ToString();
  ASSERT_EQ(mdb.integrity().verdict, IntegrityVerdict::kSound);
}

TEST(ShutdownVacuum, TooBigToFinishIsInterruptedAtTheDeadlineAndLoggedFailed) {
  TempDir dir;
  std::string path = dir.File("app.db");
  CopyDb(TemplateDb("big", {}), path);
  const int64_t free_before = QueryInt(path, "PRAGMA freelist_count");
  VacuumPolicy policy;  // ~50 pages per 20 ms: 9,000 pages need seconds
  policy.pages_per_step = 50;
  policy.pause_between_steps = Millis(20);
  auto mdb = AcquireOrDie(Resolved(path, policy));
  ASSERT_TRUE(mdb);
  MarkChecked(*mdb);

  ShutdownConfig cfg;  // incremental, analyze, truncate checkpoint
  StopToken stop;
  auto start = SteadyClock::now();
  RunShutdownMaintenance({mdb.get()}, cfg, start + Millis(200), stop);
  EXPECT_LT(MsSince(start), 200 + 1000);

  auto rows = VacuumLog(path);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].type, "auto");
  EXPECT_EQ(rows[0].status, "failed");
  EXPECT_EQ(rows[0].error, "interrupted by shutdown deadline");
  EXPECT_GT(rows[0].pages_freed, 0);
  EXPECT_GT(QueryInt(path, "PRAGMA freelist_count"), free_before / 2);
  EXPECT_EQ(QueryText(path, "PRAGMA integrity_check"), "ok");
}

TEST(ShutdownVacuum, CompletesOnASmallDatabaseThenAnalyzesAndTruncatesTheWal) {
  TempDir dir;
  std::string path = dir.File("app.db");
  MakeFragmentedDb(path, {.rows = 3000, .row_bytes = 1000, .delete_up_to = 2000});
  auto mdb = AcquireOrDie(Resolved(path));
  ASSERT_TRUE(mdb);
  MarkChecked(*mdb);
  ShutdownConfig cfg;
  StopToken stop;
  auto start = SteadyClock::now();
  RunShutdownMaintenance({mdb.get()}, cfg, start + std::chrono::seconds(10), stop);
  EXPECT_LT(MsSince(start), 5000);

  auto rows = VacuumLog(path);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "completed");
  EXPECT_GT(rows[0].pages_freed, 400);
  EXPECT_EQ(QueryInt(path, "PRAGMA freelist_count"), 0);
  EXPECT_EQ(QueryText(path,
                      "SELECT json_extract(details,'$.trigger') FROM sqlite_health_checks "
                      "WHERE check_type='analyze'"),
            "shutdown");
  EXPECT_EQ(QueryText(path,
                      "SELECT json_extract(details,'$.mode') FROM sqlite_health_checks "
                      "WHERE check_type='checkpoint'"),
            "truncate");
  EXPECT_GT(QueryInt(path, "SELECT count(*) FROM sqlite_stat1"), 0);
  EXPECT_EQ(QueryText(path, "PRAGMA integrity_check"), "ok");
}

// An application transaction that holds the write lock past the deadline: BEGIN IMMEDIATE
// must not wait out its whole busy_timeout (5 s), and nothing hangs on the journal.
TEST(ShutdownVacuum, AWriterHoldingTheLockDoesNotDelayTheExit) {
  TempDir dir;
  std::string path = dir.File("app.db");
  CopyDb(TemplateDb("big", {}), path);
  auto mdb = AcquireOrDie(Resolved(path));
  ASSERT_TRUE(mdb);
  MarkChecked(*mdb);

  sqlite3* app = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &app), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(app, "BEGIN IMMEDIATE; INSERT INTO items(body) VALUES (x'00')", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  ShutdownConfig cfg;
  StopToken stop;
  auto start = SteadyClock::now();
  RunShutdownMaintenance({mdb.get()}, cfg, start + Millis(300), stop);
  int64_t took = MsSince(start);
  sqlite3_exec(app, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(app);
  EXPECT_LT(took, 300 + 1000);
  EXPECT_EQ(QueryText(path, "PRAGMA integrity_check"), "ok");
  // The run could not even log its start while the lock was held: no row, or a failed one.
  for (const auto& row : VacuumLog(path)) EXPECT_EQ(row.status, "failed");
}

TEST(ShutdownVacuum, SharesTheDeadlineBetweenDatabasesAndSkipsWhatIsLeft) {
  TempDir dir;
  std::string a = dir.File("a.db"), b = dir.File("b.db");
  CopyDb(TemplateDb("big", {}), a);
  MakeFragmentedDb(b, {.rows = 3000, .row_bytes = 1000, .delete_up_to = 2000});
  VacuumPolicy slow;
  slow.pages_per_step = 50;
  slow.pause_between_steps = Millis(20);
  auto ma = AcquireOrDie(Resolved(a, slow));
  auto mb = AcquireOrDie(Resolved(b));
  ASSERT_TRUE(ma && mb);
  MarkChecked(*ma);
  MarkChecked(*mb);
  ShutdownConfig cfg;
  cfg.analyze = false;
  StopToken stop;
  auto start = SteadyClock::now();
  RunShutdownMaintenance({ma.get(), mb.get()}, cfg, start + Millis(1000), stop);
  EXPECT_LT(MsSince(start), 1000 + 1000);
  // The first database gets half of the time and gives up; the second still completes.
  auto rows_a = VacuumLog(a);
  ASSERT_EQ(rows_a.size(), 1u);
  EXPECT_EQ(rows_a[0].status, "failed");
  auto rows_b = VacuumLog(b);
  ASSERT_EQ(rows_b.size(), 1u);
  EXPECT_EQ(rows_b[0].status, "completed");
}

TEST(ShutdownVacuum, FullIsSkippedWhenThePredictionDoesNotFitAndIncrementalRunsInstead) {
  TempDir dir;
  std::string path = dir.File("app.db");
  CopyDb(TemplateDb("big", {}), path);
  auto mdb = AcquireOrDie(Resolved(path));
  ASSERT_TRUE(mdb);
  MarkChecked(*mdb);
  ShutdownConfig cfg;
  cfg.vacuum = ShutdownVacuum::kFull;
  cfg.analyze = false;
  StopToken stop;
  auto start = SteadyClock::now();
  // ~20 MB of live data at the default 16 MiB/s: predicted ~2 s, more than the 1 s here.
  RunShutdownMaintenance({mdb.get()}, cfg, start + Millis(1000), stop);
  EXPECT_LT(MsSince(start), 2000);
  auto rows = VacuumLog(path);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].type, "auto");  // the incremental fallback, not a full VACUUM
}

// convert_auto_vacuum: auto at shutdown: a NONE database is converted only when the
// predicted full VACUUM fits both the time left and max_full_vacuum_stall.
TEST(ShutdownVacuum, AutoConvertsANoneDatabaseOnlyWithinTheStallBound) {
  TempDir dir;
  const FragmentedDbSpec spec{
      .rows = 8000, .row_bytes = 1000, .delete_up_to = 7000, .auto_vacuum = "NONE"};
  std::string fits = dir.File("fits.db"), stalls = dir.File("stalls.db");
  MakeFragmentedDb(fits, spec);
  MakeFragmentedDb(stalls, spec);
  VacuumPolicy tight;
  tight.max_full_vacuum_stall = Millis(1);
  auto mf = AcquireOrDie(Resolved(fits));
  auto ms = AcquireOrDie(Resolved(stalls, tight));
  ASSERT_TRUE(mf && ms);
  MarkChecked(*mf);
  MarkChecked(*ms);
  const int64_t pages = QueryInt(stalls, "PRAGMA page_count");
  ShutdownConfig cfg;  // vacuum: incremental (the default)
  cfg.analyze = false;
  StopToken stop;
  RunShutdownMaintenance({mf.get(), ms.get()}, cfg, SteadyClock::now() + std::chrono::seconds(20),
                         stop);
  EXPECT_EQ(QueryInt(fits, "PRAGMA auto_vacuum"), 2);
  auto rows = VacuumLog(fits);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].type, "full");
  EXPECT_EQ(rows[0].status, "completed");

  EXPECT_EQ(QueryInt(stalls, "PRAGMA auto_vacuum"), 0);
  EXPECT_EQ(QueryInt(stalls, "PRAGMA page_count"), pages);
  EXPECT_EQ(CountVacuumLogRows(stalls), 0);
  EXPECT_EQ(QueryText(stalls,
                      "SELECT json_extract(details,'$.conversion') FROM sqlite_health_checks "
                      "WHERE check_type='vacuum'"),
            "stall_too_long");
}

}  // namespace
}  // namespace maintd::test
