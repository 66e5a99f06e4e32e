// The journal tables (CONTRACT.md section 7) and the reserved-name trap of SQLITE_FACTS.md.
#include "lib/journal/journal.h"

#include <gtest/gtest.h>

#include "lib/journal/journal_reader.h"
#include "lib/sqlite/statement.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::ExecSql;
using test::QueryInt;
using test::QueryText;
using test::TempDir;

TEST(Journal, PlainCreateOfAReservedNameFails) {
  TempDir dir;
  std::string db = dir.File("app.db");
  auto conn = Connection::Open(db, {.create = true});
  ASSERT_TRUE(conn.ok());
  Status s = conn->Exec("CREATE TABLE sqlite_vacuum_log(id INTEGER PRIMARY KEY)");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("reserved for internal use"), std::string::npos) << s.message();
}

TEST(Journal, CreatesTheThreeTablesAtTheFirstWriteAndSwitchesWritableSchemaOff) {
  TempDir dir;
  std::string db = dir.File("app.db");
  test::MakeWalDb(db, 10);
  auto journal = Journal::Open(db, {});
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  // Opening and reading write nothing (the integrity gate relies on it).
  EXPECT_FALSE((*journal)->LastRun("checkpoint")->has_value());
  EXPECT_TRUE((*journal)->RepairOrphans().ok());
  EXPECT_TRUE((*journal)->Prune({}).ok());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_%'"), 0);
  ASSERT_TRUE((*journal)->RecordCheck({"checkpoint", HealthStatus::kHealthy, {}}).ok());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('sqlite_vacuum_log',"
                         "'sqlite_health_checks','sqlite_performance_metrics')"), 3);
  EXPECT_EQ((*journal)->connection().QueryInt("PRAGMA writable_schema").value(), 0);
  // Idempotent, and a second process sees a consistent schema.
  ASSERT_TRUE(Journal::Open(db, {}).ok());
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
  // The application's schema is untouched.
  EXPECT_EQ(QueryInt(db, "PRAGMA user_version"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM items"), 10);
}

TEST(Journal, TablesWorkAndSurviveVacuumButCannotBeIndexedOrDropped) {
  TempDir dir;
  std::string db = dir.File("app.db");
  test::MakeWalDb(db, 10);
  auto journal = Journal::Open(db, {});
  ASSERT_TRUE(journal.ok());
  ASSERT_TRUE((*journal)->RecordCheck({"checkpoint", HealthStatus::kHealthy, {{"x", 1}}}).ok());
  ExecSql(db, "UPDATE sqlite_health_checks SET status='warning'; VACUUM;");
  EXPECT_EQ(QueryText(db, "SELECT status FROM sqlite_health_checks"), "warning");
  ExecSql(db, "VACUUM INTO '" + dir.File("copy.db") + "'");
  EXPECT_EQ(QueryInt(dir.File("copy.db"), "SELECT count(*) FROM sqlite_health_checks"), 1);
  auto conn = Connection::Open(db);
  ASSERT_TRUE(conn.ok());
  EXPECT_FALSE(conn->Exec("CREATE INDEX j ON sqlite_health_checks(check_type)").ok());
  EXPECT_FALSE(conn->Exec("DROP TABLE sqlite_health_checks").ok());
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
}

TEST(Journal, VacuumRowLifecycleAndOrphanRepair) {
  TempDir dir;
  std::string db = dir.File("app.db");
  test::MakeWalDb(db, 10);
  auto journal = Journal::Open(db, {});
  ASSERT_TRUE(journal.ok());
  auto id = (*journal)->BeginVacuum("auto");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(QueryText(db, "SELECT status FROM sqlite_vacuum_log"), "running");
  ASSERT_TRUE((*journal)->FinishVacuum(*id, {true, 10, 40960, 12, ""}).ok());
  EXPECT_EQ(QueryText(db, "SELECT status||','||pages_freed||','||bytes_freed||','||duration_ms "
                          "||','||(error_message IS NULL)||','||(completed_ts IS NOT NULL) "
                          "FROM sqlite_vacuum_log"),
            "completed,10,40960,12,1,1");
  ASSERT_TRUE((*journal)->BeginVacuum("full").ok());
  auto repaired = (*journal)->RepairOrphans();
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(*repaired, 1);
  EXPECT_EQ(QueryText(db, "SELECT status||':'||error_message FROM sqlite_vacuum_log WHERE "
                          "vacuum_type='full'"),
            "failed:daemon stopped during run");
  // The CHECK constraints of the contract's schema hold.
  EXPECT_FALSE((*journal)->BeginVacuum("bogus").ok());
}

// Two databases a and b journaling into one central journal, on a fake clock.
struct CentralPair {
  TempDir dir;
  std::string a = dir.File("a.db"), b = dir.File("b.db"), central = dir.File("journal.db");
  FakeClock clock{*ParseSqliteUtc("2026-01-10 12:00:00")};
  Result<std::unique_ptr<Journal>> ja = Open(a);
  Result<std::unique_ptr<Journal>> jb = Open(b);
  Result<std::unique_ptr<Journal>> Open(const std::string& db) {
    test::MakeWalDb(db, 10);
    return Journal::Open(db, {central, Millis(1000)}, clock);
  }
};

TEST(Journal, LastRunPruneAndCentralJournal) {
  CentralPair p;
  const std::string &a = p.a, &b = p.b, &central = p.central;
  FakeClock& clock = p.clock;
  auto &ja = p.ja, &jb = p.jb;
  ASSERT_TRUE(ja.ok() && jb.ok());
  ASSERT_TRUE((*ja)->RecordCheck({"analyze", HealthStatus::kHealthy, {}}).ok());
  clock.Advance(std::chrono::hours(24 * 10));
  ASSERT_TRUE((*jb)->RecordCheck({"analyze", HealthStatus::kWarning, {}}).ok());
  ASSERT_TRUE((*ja)->RecordMetrics({{"x", 1.5, "ms", {}}}).ok());
  // Nothing was added to the maintained databases themselves.
  EXPECT_EQ(QueryInt(a, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_%log'"), 0);
  auto last = (*ja)->LastRun("analyze");
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ(FormatSqliteUtc(**last), "2026-01-10 12:00:00");
  EXPECT_FALSE((*ja)->LastRun("checkpoint")->has_value());
  // Prune: a's analyze row is 10 days old (> 7d), b's is new; each prunes only its own.
  ASSERT_TRUE((*ja)->Prune({}).ok());
  EXPECT_EQ(QueryInt(central, "SELECT count(*) FROM sqlite_health_checks"), 1);
  EXPECT_EQ(QueryInt(central, "SELECT count(*) FROM sqlite_performance_metrics"), 1);
  auto conn = Connection::Open(central);
  auto outcomes = ReadLastOutcomes(*conn, b);
  ASSERT_TRUE(outcomes.ok());
  ASSERT_EQ(outcomes->size(), 1u);
  EXPECT_EQ((*outcomes)[0].status, "warning");
}

// LastRuns (one read seeds all of a database's jobs) agrees with LastRun for each check
// type; "vacuum" comes from the vacuum log only, and other databases' rows in a central
// journal do not count.
TEST(JournalTest, LastRunsAgreesWithLastRunForEveryJob) {
  CentralPair p;
  FakeClock& clock = p.clock;
  auto &ja = p.ja, &jb = p.jb;
  ASSERT_TRUE(ja.ok() && jb.ok());
  EXPECT_TRUE((*ja)->LastRuns()->empty());
  ASSERT_TRUE((*ja)->RecordCheck({"checkpoint", HealthStatus::kHealthy, {}}).ok());
  clock.Advance(std::chrono::minutes(5));
  ASSERT_TRUE((*ja)->RecordCheck({"checkpoint", HealthStatus::kHealthy, {}}).ok());
  ASSERT_TRUE((*ja)->RecordCheck({"vacuum", HealthStatus::kHealthy, {}}).ok());
  clock.Advance(std::chrono::minutes(5));
  ASSERT_TRUE((*jb)->RecordCheck({"analyze", HealthStatus::kHealthy, {}}).ok());
  auto runs = (*ja)->LastRuns();
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->count("checkpoint"), 1u);
  EXPECT_EQ(FormatSqliteUtc(runs->at("checkpoint")), "2026-01-10 12:05:00");
  EXPECT_EQ(runs->count("analyze"), 0u) << "b's row";
  EXPECT_EQ(runs->count("vacuum"), 0u) << "a health row named vacuum is not a vacuum run";
  for (const char* type : {"checkpoint", "analyze", "vacuum"}) {
    auto one = (*ja)->LastRun(type);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->has_value(), runs->count(type) == 1) << type;
  }
  auto id = (*ja)->BeginVacuum("incremental");
  ASSERT_TRUE(id.ok());
  runs = (*ja)->LastRuns();
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->count("vacuum"), 1u);
  EXPECT_EQ(runs->at("vacuum"), **(*ja)->LastRun("vacuum"));
}

}  // namespace
}  // namespace maintd
