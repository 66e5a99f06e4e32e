// The health and integrity_check jobs against real files, including corrupted ones, and
// the thresholds of the single checks.

#include "lib/jobs/health.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "tests/support/job_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;

ResolvedDatabase Db(const std::string& path) {
  ResolvedDatabase db = test::TestDbEntry(path);
  db.policy.health.free_disk_warning = {0, 0};  // independent of this machine's disk
  return db;
}

const CheckRow* Find(const JobReport& r, const std::string& type) {
  for (const CheckRow& c : r.checks) {
    if (c.check_type == type) return &c;
  }
  return nullptr;
}

// A rollback-mode database whose table `t` spans many pages, with an index; then the whole
// root page of `t` (found in sqlite_master) is overwritten with garbage.
void MakeCorruptDb(const std::string& path) {
  test::ExecSql(path,
                "PRAGMA journal_mode=DELETE;"
                "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
                "CREATE INDEX t_v ON t(v);"
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) "
                "INSERT INTO t(v) SELECT hex(randomblob(50)) FROM n;");
  int64_t root = test::QueryInt(path, "SELECT rootpage FROM sqlite_master WHERE name='t'");
  int64_t page_size = test::QueryInt(path, "PRAGMA page_size");
  ASSERT_GT(root, 1);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp((root - 1) * page_size);
  std::string garbage(static_cast<size_t>(page_size), '\x5a');
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  ASSERT_TRUE(f.good());
}

TEST(HealthJob, HealthyDatabaseIsAllHealthy) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 500);
  Connection conn = test::OpenTestDb(path);
  auto report = test::RunJobOnce(*MakeHealthJob(Db(path)), Db(path), conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::set<std::string> types;
  for (const CheckRow& c : report->checks) {
    types.insert(c.check_type);
    EXPECT_EQ(c.status, HealthStatus::kHealthy) << c.check_type << " " << c.details.dump();
    EXPECT_TRUE(c.details.is_object());
  }
  EXPECT_EQ(types, (std::set<std::string>{"quick_check", "fragmentation", "wal_size", "db_size",
                                          "journal_mode", "free_disk", "filesystem", "wal_pin"}));
  EXPECT_EQ(report->status, HealthStatus::kHealthy);
  EXPECT_NE(report->integrity, IntegrityVerdict::kCorrupt);
  EXPECT_EQ(Find(*report, "quick_check")->details.at("result"), "ok");
  EXPECT_EQ(Find(*report, "fragmentation")->details.at("auto_vacuum"), "none");
  EXPECT_TRUE(Find(*report, "fragmentation")->details.contains("note"));
  std::set<std::string> units;
  for (const MetricRow& m : report->metrics) units.insert(m.unit);
  EXPECT_EQ(units, (std::set<std::string>{"ms", "pages", "bytes"}));
}

TEST(HealthJob, FragmentedNoneDatabaseWarnsOnlyWhenTheVacuumJobWillNotConvertIt) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 3000, 400);
  test::ExecSql(path, "DELETE FROM items WHERE id > 300");
  ResolvedDatabase db = Db(path);
  db.policy.vacuum.min_free_pages = 10;
  Connection conn = test::OpenTestDb(path);

  // Default (convert_auto_vacuum: auto): ~0.2 MB of live data, predicted well within
  // max_full_vacuum_stall: the vacuum job converts it, nothing to warn about.
  auto report = test::RunJobOnce(*MakeHealthJob(db), db, conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const CheckRow* frag = Find(*report, "fragmentation");
  ASSERT_NE(frag, nullptr);
  EXPECT_EQ(frag->status, HealthStatus::kHealthy) << frag->details.dump();
  EXPECT_EQ(frag->details.at("conversion"), "convert");
  EXPECT_GE(frag->details.at("free_ratio").get<double>(), 0.5);
  EXPECT_EQ(frag->details.at("auto_vacuum"), "none");

  // A stall bound it does not fit: a warning that says why, on the first run only of the
  // same job instance (the row stays a warning every run).
  db.policy.vacuum.max_full_vacuum_stall = Millis(1);
  auto job = MakeHealthJob(db);
  auto too_slow = test::RunJobOnce(*job, db, conn);
  ASSERT_TRUE(too_slow.ok());
  frag = Find(*too_slow, "fragmentation");
  EXPECT_EQ(frag->status, HealthStatus::kWarning) << frag->details.dump();
  EXPECT_EQ(frag->details.at("conversion"), "stall_too_long");
  EXPECT_NE(frag->details.at("why").get<std::string>().find("max_full_vacuum_stall 1ms"),
            std::string::npos)
      << frag->details.dump();
  EXPECT_EQ(too_slow->status, HealthStatus::kWarning);
  auto again = test::RunJobOnce(*job, db, conn);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Find(*again, "fragmentation")->status, HealthStatus::kWarning);
  EXPECT_EQ(again->status, HealthStatus::kHealthy) << again->summary;
  EXPECT_NE(again->summary.find("fragmentation warning (since "), std::string::npos)
      << again->summary;

  // convert_auto_vacuum: false never converts.
  db.policy.vacuum.convert_auto_vacuum = ConvertAutoVacuum::kFalse;
  auto off = test::RunJobOnce(*MakeHealthJob(db), db, conn);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(Find(*off, "fragmentation")->status, HealthStatus::kWarning);
  EXPECT_EQ(Find(*off, "fragmentation")->details.at("conversion"), "disabled");

  // With a full VACUUM allowed by the policy, the vacuum job takes care of it.
  db.policy.vacuum.full_when_no_auto_vacuum = true;
  auto allowed = test::RunJobOnce(*MakeHealthJob(db), db, conn);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(Find(*allowed, "fragmentation")->status, HealthStatus::kHealthy);
}

TEST(HealthJob, FragmentedIncrementalDatabaseIsHealthy) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::ExecSql(path, "PRAGMA auto_vacuum=INCREMENTAL;");
  test::MakeWalDb(path, 3000, 400);
  test::ExecSql(path, "DELETE FROM items WHERE id > 300");
  ResolvedDatabase db = Db(path);
  db.policy.vacuum.min_free_pages = 10;
  Connection conn = test::OpenTestDb(path);
  auto report = test::RunJobOnce(*MakeHealthJob(db), db, conn);
  ASSERT_TRUE(report.ok());
  const CheckRow* frag = Find(*report, "fragmentation");
  EXPECT_EQ(frag->details.at("auto_vacuum"), "incremental");
  EXPECT_GE(frag->details.at("free_ratio").get<double>(), 0.5);
  EXPECT_EQ(frag->status, HealthStatus::kHealthy);
}

TEST(HealthJob, WalWarningThreshold) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 200);
  Connection conn = test::OpenTestDb(path);
  ASSERT_TRUE(conn.QueryInt("SELECT count(*) FROM items").ok());  // keeps the WAL open
  test::ExecSql(path, "INSERT INTO items(body) SELECT body FROM items");
  ResolvedDatabase db = Db(path);
  auto below = test::RunJobOnce(*MakeHealthJob(db), db, conn);
  ASSERT_TRUE(below.ok());
  EXPECT_EQ(Find(*below, "wal_size")->status, HealthStatus::kHealthy);
  db.policy.health.wal_warning = 4096;
  auto above = test::RunJobOnce(*MakeHealthJob(db), db, conn);
  ASSERT_TRUE(above.ok());
  const CheckRow* wal = Find(*above, "wal_size");
  EXPECT_EQ(wal->status, HealthStatus::kWarning) << wal->details.dump();
  EXPECT_GT(wal->details.at("wal_bytes").get<int64_t>(), 4096);
}

TEST(HealthJob, SizeThresholdsAndRollbackJournal) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::ExecSql(path, "PRAGMA journal_mode=DELETE; CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  ResolvedDatabase db = Db(path);
  db.policy.health.size_warning = 1024;
  Connection conn = test::OpenTestDb(path);
  auto warn = test::RunJobOnce(*MakeHealthJob(db), db, conn);
  ASSERT_TRUE(warn.ok());
  EXPECT_EQ(Find(*warn, "db_size")->status, HealthStatus::kWarning);
  EXPECT_EQ(Find(*warn, "journal_mode")->status, HealthStatus::kWarning);
  EXPECT_EQ(Find(*warn, "journal_mode")->details.at("journal_mode"), "delete");
  db.policy.health.size_critical = 2048;
  auto crit = test::RunJobOnce(*MakeHealthJob(db), db, conn);
  ASSERT_TRUE(crit.ok());
  EXPECT_EQ(Find(*crit, "db_size")->status, HealthStatus::kCritical);
  EXPECT_EQ(crit->status, HealthStatus::kCritical);
  EXPECT_NE(crit->integrity, IntegrityVerdict::kCorrupt);
}

TEST(HealthJob, CorruptPageIsCriticalNotAFailure) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  MakeCorruptDb(path);
  Connection conn = test::OpenTestDb(path);
  auto report = test::RunJobOnce(*MakeHealthJob(Db(path)), Db(path), conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->integrity, IntegrityVerdict::kCorrupt);
  EXPECT_EQ(report->status, HealthStatus::kCritical);
  const CheckRow* qc = Find(*report, "quick_check");
  ASSERT_NE(qc, nullptr);
  EXPECT_EQ(qc->status, HealthStatus::kCritical);
  EXPECT_EQ(qc->details.at("result"), "corrupt");
  EXPECT_TRUE(!qc->details.at("messages").empty() || qc->details.contains("error"))
      << qc->details.dump();
}

TEST(HealthJob, NotADatabaseIsCritical) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::ExecSql(path, "PRAGMA journal_mode=DELETE; CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.write(std::string(100, '\x33').data(), 100);
  }
  Connection conn = test::OpenTestDb(path);
  auto report = test::RunJobOnce(*MakeHealthJob(Db(path)), Db(path), conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->integrity, IntegrityVerdict::kCorrupt);
  const CheckRow* qc = Find(*report, "quick_check");
  ASSERT_NE(qc, nullptr);
  EXPECT_EQ(qc->status, HealthStatus::kCritical);
  EXPECT_TRUE(qc->details.contains("error")) << qc->details.dump();
  EXPECT_NE(Find(*report, "db_size"), nullptr);  // file-level checks still ran
  EXPECT_NE(Find(*report, "free_disk"), nullptr);
}

// Read-only: both jobs complete while another connection holds the write lock.
TEST(HealthJob, HoldsOnlyReadTransactions) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 500);
  Connection writer = test::OpenTestDb(path);
  ASSERT_TRUE(writer.Exec("BEGIN IMMEDIATE; DELETE FROM items WHERE id <= 100;").ok());
  Connection conn = test::OpenTestDb(path, 50ms);
  auto health = test::RunJobOnce(*MakeHealthJob(Db(path)), Db(path), conn);
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(Find(*health, "quick_check")->status, HealthStatus::kHealthy);
  auto integrity = test::RunJobOnce(*MakeIntegrityCheckJob(Db(path)), Db(path), conn);
  ASSERT_TRUE(integrity.ok()) << integrity.status().ToString();
  EXPECT_FALSE(conn.InTransaction());
  EXPECT_TRUE(writer.Exec("COMMIT").ok());
}

TEST(IntegrityCheckJob, HealthyDatabase) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 500);
  Connection conn = test::OpenTestDb(path);
  auto job = MakeIntegrityCheckJob(Db(path));
  EXPECT_EQ(job->name(), "integrity_check");
  auto report = test::RunJobOnce(*job, Db(path), conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->checks.size(), 2u);
  EXPECT_EQ(Find(*report, "integrity_check")->status, HealthStatus::kHealthy);
  EXPECT_EQ(Find(*report, "foreign_key_check")->status, HealthStatus::kHealthy);
  EXPECT_EQ(Find(*report, "foreign_key_check")->details.at("violations"), 0);
  EXPECT_NE(report->integrity, IntegrityVerdict::kCorrupt);
}

TEST(IntegrityCheckJob, CorruptPageIsCritical) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  MakeCorruptDb(path);
  Connection conn = test::OpenTestDb(path);
  auto report = test::RunJobOnce(*MakeIntegrityCheckJob(Db(path)), Db(path), conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->integrity, IntegrityVerdict::kCorrupt);
  EXPECT_EQ(report->status, HealthStatus::kCritical);
  EXPECT_EQ(Find(*report, "integrity_check")->status, HealthStatus::kCritical);
}

TEST(IntegrityCheckJob, ForeignKeyViolationWarns) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::ExecSql(path,
                "PRAGMA foreign_keys=OFF;"
                "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
                "CREATE TABLE child(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES parent(id));"
                "INSERT INTO parent VALUES(1);"
                "INSERT INTO child VALUES(1, 1), (2, 99), (3, 98);");
  Connection conn = test::OpenTestDb(path);
  auto report = test::RunJobOnce(*MakeIntegrityCheckJob(Db(path)), Db(path), conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(Find(*report, "integrity_check")->status, HealthStatus::kHealthy);
  const CheckRow* fk = Find(*report, "foreign_key_check");
  ASSERT_NE(fk, nullptr);
  EXPECT_EQ(fk->status, HealthStatus::kWarning);
  EXPECT_EQ(fk->details.at("violations"), 2);
  ASSERT_EQ(fk->details.at("first").size(), 2u);
  EXPECT_EQ(fk->details.at("first")[0]["table"], "child");
  EXPECT_EQ(fk->details.at("first")[0]["parent"], "parent");
  EXPECT_EQ(report->status, HealthStatus::kWarning);
  EXPECT_NE(report->integrity, IntegrityVerdict::kCorrupt);
}

TEST(HealthChecks, FilesystemNetworkWalIsCritical) {
  EXPECT_EQ(FilesystemCheck({"nfs", true}, "wal").status, HealthStatus::kCritical);
  EXPECT_EQ(FilesystemCheck({"cifs", true}, "delete").status, HealthStatus::kWarning);
  EXPECT_EQ(FilesystemCheck({"ext4", false}, "wal").status, HealthStatus::kHealthy);
}

TEST(HealthChecks, FreeDiskThresholds) {
  HealthPolicy h;  // warning below 10%
  VacuumPolicy v;
  constexpr int64_t kGiB = 1LL << 30;
  EXPECT_EQ(FreeDiskCheck({50 * kGiB, 100 * kGiB}, kGiB, h, v).status, HealthStatus::kHealthy);
  EXPECT_EQ(FreeDiskCheck({5 * kGiB, 100 * kGiB}, kGiB, h, v).status, HealthStatus::kWarning);
  // Below 1% of the filesystem, or below kCriticalFreeBytes, is critical.
  EXPECT_EQ(FreeDiskCheck({kGiB / 2, 100 * kGiB}, kGiB, h, v).status, HealthStatus::kCritical);
  EXPECT_EQ(FreeDiskCheck({20LL << 20, kGiB}, kGiB, h, v).status, HealthStatus::kCritical);
  h.free_disk_warning = {0, 30 * kGiB};  // a bytes threshold
  EXPECT_EQ(FreeDiskCheck({20 * kGiB, 1024 * kGiB}, kGiB, h, v).status, HealthStatus::kWarning);
  EXPECT_EQ(FreeDiskCheck({40 * kGiB, 1024 * kGiB}, kGiB, h, v).status, HealthStatus::kHealthy);
  auto row = FreeDiskCheck({3 * kGiB, 10 * kGiB}, 2 * kGiB, h, v);
  EXPECT_EQ(row.details.at("full_vacuum_room"), false);  // 3 GiB < 2.0 x 2 GiB
}

TEST(HealthChecks, HealthReportsBackupAgeOnlyWhenBackupsAreScheduled) {
  test::TempDir dir;
  ResolvedDatabase db = test::TestDbEntry(dir.File("app.db"));
  test::MakeWalDb(db.path, 10);
  auto has_backup_age = [&](const ResolvedDatabase& d) -> std::optional<HealthStatus> {
    Connection conn = test::OpenTestDb(d.path);
    auto report = test::RunJobOnce(*MakeHealthJob(d), d, conn);
    for (const auto& row : report->checks) {
      if (row.check_type == "backup_age") return row.status;
    }
    return std::nullopt;
  };
  EXPECT_FALSE(has_backup_age(db).has_value());
  db.policy.backup.every = 6h;
  // Backups just enabled, none taken yet: the first one is pending, not an emergency.
  EXPECT_EQ(has_backup_age(db), HealthStatus::kHealthy);
}

// The same health job (the daemon's schedule entry) keeps the time it first saw backups
// enabled: a first backup that never comes is critical at 4 x every (lib/backup/backup_age.h).
TEST(HealthChecks, FirstBackupThatNeverComesGoesCritical) {
  test::TempDir dir;
  ResolvedDatabase db = test::TestDbEntry(dir.File("app.db"));
  test::MakeWalDb(db.path, 10);
  db.policy.backup.every = 6h;
  auto job = MakeHealthJob(db);
  FakeClock clock(SystemTime(std::chrono::seconds(1795316400)));
  auto backup_age = [&]() -> CheckRow {
    Connection conn = test::OpenTestDb(db.path);
    StopToken stop;
    JobContext ctx{db, &conn, nullptr, clock, stop, JobTrigger::kScheduled, std::nullopt};
    auto report = job->Run(ctx);
    EXPECT_TRUE(report.ok());
    for (const auto& row : report->checks) {
      if (row.check_type == "backup_age") return row;
    }
    return {};
  };
  CheckRow first = backup_age();
  EXPECT_EQ(first.status, HealthStatus::kHealthy) << first.details.dump();
  EXPECT_EQ(first.details["pending"], true);
  clock.Advance(13h);
  EXPECT_EQ(backup_age().status, HealthStatus::kWarning);
  clock.Advance(11h);
  CheckRow late = backup_age();
  EXPECT_EQ(late.status, HealthStatus::kCritical) << late.details.dump();
  EXPECT_EQ(late.details["first_due"], "2026-11-22 03:00:00");
}

}  // namespace
}  // namespace maintd
