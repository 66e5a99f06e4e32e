// Full VACUUM, VACUUM INTO and the `vacuum` command: the safety rules (disk space,
// Litestream, corrupt databases), interruption, and the duration prediction.
#include <gtest/gtest.h>
#include <sqlite3.h>


#include "lib/inspect/db_stats.h"
#include "lib/vacuum/full.h"
#include "lib/vacuum/predict.h"
#include "tests/vacuum/vacuum_test_util.h"

namespace maintd::test {
namespace {

const FragmentedDbSpec kSmall{.rows = 6000, .row_bytes = 1000, .delete_up_to = 4000};

std::string ConfigWith(const TempDir& dir, const std::string& db, const std::string& vacuum) {
  std::string path = dir.File("config.yaml");
  WriteFile(path,
            "http: { listen: \"\" }\n"
            "databases:\n"
            "  - name: app\n"
            "    path: " +
                db + "\n" + (vacuum.empty() ? "" : "    vacuum: " + vacuum + "\n"));
  return path;
}

TEST(VacuumCommand, FullIsRefusedWhenFreeDiskIsBelowTheFactor) {
  TempDir dir;
  std::string db = dir.File("app.db");
  CopyDb(TemplateDb("small", kSmall), db);
  const int64_t pages = QueryInt(db, "PRAGMA page_count");
  std::string config = ConfigWith(dir, db, "{ min_free_disk_factor: 1000000000000 }");
  auto r = RunMaintd({"--config", config, "vacuum", "--full", db});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("min_free_disk_factor"), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt(db, "PRAGMA page_count"), pages);
  EXPECT_GT(QueryInt(db, "PRAGMA freelist_count"), 900);
  EXPECT_EQ(CountVacuumLogRows(db), 0);

  // The same database with the default factor is vacuumed.
  std::string ok_config = ConfigWith(dir, db, "");
  auto ok = RunMaintd({"--config", ok_config, "vacuum", "--full", db});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("pages_freed="), std::string::npos) << ok.out;
  EXPECT_EQ(QueryInt(db, "PRAGMA freelist_count"), 0);
  auto rows = VacuumLog(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].type, "full");
  EXPECT_EQ(rows[0].status, "completed");
}

TEST(FullVacuum, DiskCheckCoversTheDatabaseAndTheTempDirectory) {
  TempDir dir, temp;
  std::string db = dir.File("app.db");
  CopyDb(TemplateDb("small", kSmall), db);
  auto conn = Connection::Open(db);
  ASSERT_TRUE(conn.ok());
  auto stats = ReadDbStats(*conn);
  ASSERT_TRUE(stats.ok());
  FullVacuumOptions o;
  o.temp_dir = temp.path();
  std::vector<DiskCheck> checks;
  EXPECT_TRUE(CheckFullVacuumAllowed(db, *stats, o, &checks).ok());
  ASSERT_GE(checks.size(), 1u);  // one per file system: here both are the same one
  EXPECT_EQ(checks[0].needed_bytes, 2 * (stats->file_size + stats->wal_size));
  o.min_free_disk_factor = 1e12;
  Status refused = CheckFullVacuumAllowed(db, *stats, o, &checks);
  EXPECT_EQ(refused.code(), StatusCode::kRefused) << refused.ToString();
  StopToken stop;
  FullVacuumOutcome out = RunFullVacuum(*conn, o, stop);
  EXPECT_EQ(out.status.code(), StatusCode::kRefused);
  EXPECT_FALSE(out.started);
  EXPECT_GT(QueryInt(db, "PRAGMA freelist_count"), 900);
}

TEST(VacuumCommand, FullIsRefusedOnALitestreamDatabase) {
  TempDir dir;
  std::string db = dir.File("app.db");
  CopyDb(TemplateDb("small", kSmall), db);
  ExecSql(db, "CREATE TABLE _litestream_seq(id INTEGER PRIMARY KEY, seq INTEGER)");
  const int64_t pages = QueryInt(db, "PRAGMA page_count");
  auto r = RunMaintd({"--config", ConfigWith(dir, db, ""), "vacuum", "--full", db});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("Litestream"), std::string::npos) << r.err;
  EXPECT_EQ(QueryInt(db, "PRAGMA page_count"), pages);
  EXPECT_EQ(CountVacuumLogRows(db), 0);
  // A compacted copy only reads the database: allowed.
  auto into =
      RunMaintd({"--config", ConfigWith(dir, db, ""), "vacuum", "--into", dir.File("copy.db"), db});
  EXPECT_EQ(into.exit_code, 0) << into.err;
}

TEST(VacuumCommand, RefusedOnADatabaseWhoseLastIntegrityResultIsCritical) {
  TempDir dir;
  std::string db = dir.File("app.db");
  CopyDb(TemplateDb("small", kSmall), db);
  {
    auto journal = Journal::Open(db, JournalTarget{});
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE(
        (*journal)
            ->RecordCheck({"integrity_check", HealthStatus::kCritical, {{"problems", {"test"}}}})
            .ok());
  }
  const int64_t free_before = QueryInt(db, "PRAGMA freelist_count");
  for (std::vector<std::string> flags :
       {std::vector<std::string>{"--full"}, {"--incremental"}, {"--into", dir.File("c.db")}}) {
    std::vector<std::string> args{"--config", ConfigWith(dir, db, ""), "vacuum"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(db);
    auto r = RunMaintd(args);
    EXPECT_EQ(r.exit_code, 1) << flags[0] << r.out << r.err;
    EXPECT_NE(r.err.find("critical"), std::string::npos) << r.err;
  }
  EXPECT_EQ(QueryInt(db, "PRAGMA freelist_count"), free_before);
  EXPECT_FALSE(FileExists(dir.File("c.db")));
  EXPECT_EQ(CountVacuumLogRows(db), 0);
}

TEST(VacuumCommand, IncrementalPagesAndIntoAndUsage) {
  TempDir dir;
  std::string db = dir.File("app.db");
  CopyDb(TemplateDb("small", kSmall), db);
  std::string config = ConfigWith(dir, db, "");
  const int64_t free_before = QueryInt(db, "PRAGMA freelist_count");

  auto some = RunMaintd({"--config", config, "vacuum", "--incremental", "--pages", "100", db});
  EXPECT_EQ(some.exit_code, 0) << some.err;
  EXPECT_NE(some.out.find("pages_freed=100 "), std::string::npos) << some.out;
  EXPECT_NE(some.out.find("max_lock_hold_ms="), std::string::npos) << some.out;
  auto rows = VacuumLog(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].type, "incremental");
  EXPECT_EQ(rows[0].pages_freed, 100);
  // The journal tables took a few free pages when they were created.
  EXPECT_NEAR(QueryInt(db, "PRAGMA freelist_count"), free_before - 100, 5);

  std::string copy = dir.File("copy.db");
  auto into = RunMaintd({"--config", config, "vacuum", "--into", copy, db});
  EXPECT_EQ(into.exit_code, 0) << into.err;
  EXPECT_EQ(QueryText(copy, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryInt(copy, "PRAGMA freelist_count"), 0);
  EXPECT_EQ(QueryInt(copy, "SELECT count(*) FROM items"), kSmall.rows - kSmall.delete_up_to);
  EXPECT_GT(QueryInt(db, "PRAGMA freelist_count"), 800);  // the source is untouched
  EXPECT_EQ(CountVacuumLogRows(db), 1);                   // INTO writes no row

  auto exists = RunMaintd({"--config", config, "vacuum", "--into", copy, db});
  EXPECT_EQ(exists.exit_code, 2) << exists.err;
  auto both = RunMaintd({"--config", config, "vacuum", "--full", "--incremental", db});
  EXPECT_EQ(both.exit_code, 2) << both.err;

  auto rest = RunMaintd({"--config", config, "vacuum", db});
  EXPECT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(QueryInt(db, "PRAGMA freelist_count"), 0);
}

TEST(VacuumCommand, IncrementalOnAutoVacuumNoneIsRefusedWithAHint) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeFragmentedDb(db,
                   {.rows = 2000, .row_bytes = 1000, .delete_up_to = 1000, .auto_vacuum = "NONE"});
  auto r = RunMaintd({"--config", ConfigWith(dir, db, ""), "vacuum", "--incremental", db});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--full"), std::string::npos) << r.err;
  EXPECT_EQ(CountVacuumLogRows(db), 0);
}

// Aborts from SQLite's progress handler once the VACUUM is well into its rebuild: the same
// sqlite3_interrupt the shutdown timer sends, at a point that does not depend on timing.
struct AbortAfter {
  StopToken* stop;
  int calls_left;
};
int AbortFromProgress(void* arg) {
  auto* a = static_cast<AbortAfter*>(arg);
  if (--a->calls_left == 0) a->stop->Abort();
  return 0;
}

TEST(FullVacuum, AbortDuringTheRebuildRollsBackAndKeepsTheDatabaseIntact) {
  TempDir dir;
  std::string db = dir.File("app.db");
  CopyDb(TemplateDb("big", {}), db);
  const int64_t pages = QueryInt(db, "PRAGMA page_count");
  auto conn = Connection::Open(db);
  ASSERT_TRUE(conn.ok());
  StopToken stop;
  ScopedInterruptible guard(stop, *conn);
  // 500 x 100 VM instructions: far past the header reads, far before the end of a rebuild
  // that copies 12,000 rows.
  AbortAfter abort_after{&stop, 500};
  sqlite3_progress_handler(conn->raw(), 100, AbortFromProgress, &abort_after);
  FullVacuumOutcome out = RunFullVacuum(*conn, FullVacuumOptions{}, stop);
  sqlite3_progress_handler(conn->raw(), 0, nullptr, nullptr);
  EXPECT_TRUE(out.started);
  EXPECT_EQ(out.status.code(), StatusCode::kInterrupted) << out.status.ToString();
  EXPECT_EQ(QueryInt(db, "PRAGMA page_count"), pages);
  EXPECT_GT(QueryInt(db, "PRAGMA freelist_count"), 8000);
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
}

TEST(Predict, UsesTheSlowestRecentRunOrAConservativeDefault) {
  FullVacuumPrediction none = PredictFullVacuum(nullptr, 160LL << 20);
  EXPECT_EQ(none.source, "default");
  EXPECT_EQ(none.samples, 0);
  EXPECT_EQ(none.duration, Millis(15000) + kPredictFixedCost);  // 160 MiB at 16 MiB/s x 1.5

  TempDir dir;
  std::string db = dir.File("app.db");
  ExecSql(db, "CREATE TABLE t(x)");
  auto journal = Journal::Open(db, JournalTarget{});
  ASSERT_TRUE(journal.ok());
  Journal& j = **journal;
  EXPECT_EQ(PredictFullVacuum(&j, 1 << 20).source, "default");
  // Only the vacuum_log: bytes_freed / duration understates the rate (errs long).
  auto id = j.BeginVacuum("full");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(j.FinishVacuum(*id, {true, 10, 10LL << 20, 1000, ""}).ok());
  FullVacuumPrediction from_log = PredictFullVacuum(&j, 20LL << 20);
  EXPECT_EQ(from_log.source, "vacuum_log");
  EXPECT_EQ(from_log.duration, Millis(3000) + kPredictFixedCost);
  // Rate rows: the slowest of the recent runs wins.
  ASSERT_TRUE(j.RecordMetrics({FullVacuumRateMetric(100LL << 20, 1000),
                               FullVacuumRateMetric(100LL << 20, 2000)})
                  .ok());
  FullVacuumPrediction p = PredictFullVacuum(&j, 50LL << 20);
  EXPECT_EQ(p.source, "metrics");
  EXPECT_EQ(p.samples, 2);
  EXPECT_EQ(p.duration, Millis(1500) + kPredictFixedCost);
  // The same rows read through another (read-only) connection to the database, as the
  // health job does; a database without journal tables gives the default.
  auto reader = Connection::Open(db, OpenOptions{.read_only = true});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(PredictFullVacuum(&*reader, db, 50LL << 20).duration, p.duration);
  std::string bare = dir.File("bare.db");
  ExecSql(bare, "CREATE TABLE t(x)");
  auto bare_conn = Connection::Open(bare, OpenOptions{.read_only = true});
  ASSERT_TRUE(bare_conn.ok());
  EXPECT_EQ(PredictFullVacuum(&*bare_conn, bare, 1 << 20).source, "default");
}

}  // namespace
}  // namespace maintd::test
