// The analyze job and RunAnalyze against real files.

#include "lib/jobs/analyze.h"

#include <gtest/gtest.h>

#include "lib/inspect/db_stats.h"
#include "tests/support/job_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;

// Two application tables; t has 2000 rows and an index on k with 50 distinct values.
void MakeIndexedDb(const std::string& path) {
  test::ExecSql(path,
                "PRAGMA journal_mode=WAL;"
                "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT);"
                "CREATE INDEX t_k ON t(k);"
                "CREATE TABLE u(x);"
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) "
                "INSERT INTO t(k, v) SELECT i % 50, hex(randomblob(20)) FROM n;");
}

int64_t Stat1Rows(const std::string& path) {
  if (test::QueryInt(path, "SELECT count(*) FROM sqlite_master WHERE name='sqlite_stat1'") == 0) {
    return 0;
  }
  return test::QueryInt(path, "SELECT count(*) FROM sqlite_stat1");
}

TEST(Analyze, LimitedCreatesStat1Rows) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  MakeIndexedDb(path);
  ASSERT_EQ(Stat1Rows(path), 0);
  Connection conn = test::OpenTestDb(path);
  auto report = RunAnalyze(conn, AnalyzeMode::kLimited, 100);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->checks.size(), 1u);
  const CheckRow& row = report->checks[0];
  EXPECT_EQ(row.check_type, "analyze");
  EXPECT_EQ(row.status, HealthStatus::kHealthy);
  EXPECT_EQ(row.details.at("mode"), "limited");
  EXPECT_EQ(row.details.at("analysis_limit"), 100);
  EXPECT_EQ(row.details.at("tables"), 2);
  EXPECT_TRUE(row.details.contains("duration_ms"));
  EXPECT_GT(Stat1Rows(path), 0);
  EXPECT_EQ(row.details.at("stat1_rows"), Stat1Rows(path));
  EXPECT_EQ(*conn.QueryInt("PRAGMA analysis_limit"), 0);  // restored
  EXPECT_FALSE(conn.InTransaction());
  ASSERT_FALSE(report->metrics.empty());
  EXPECT_EQ(report->metrics[0].unit, "ms");

  // sqlite_stat1 (now present) is not counted as an application table.
  auto again = RunAnalyze(conn, AnalyzeMode::kLimited, 100);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->checks[0].details.at("tables"), 2);
}

TEST(Analyze, FullCountsEveryRow) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  MakeIndexedDb(path);
  Connection conn = test::OpenTestDb(path);
  ASSERT_TRUE(conn.Exec("PRAGMA analysis_limit=7").ok());
  auto report = RunAnalyze(conn, AnalyzeMode::kFull, 100);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->checks[0].details.at("mode"), "full");
  EXPECT_EQ(report->checks[0].details.at("analysis_limit"), 0);
  // Exact statistics: 2000 rows, 50 distinct k -> 40 rows per key.
  EXPECT_EQ(test::QueryText(path, "SELECT stat FROM sqlite_stat1 WHERE idx='t_k'"), "2000 40");
  EXPECT_EQ(*conn.QueryInt("PRAGMA analysis_limit"), 7);  // the caller's setting survives
}

TEST(Analyze, OptimizeFallsBackToLimitedBefore346) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  MakeIndexedDb(path);
  Connection conn = test::OpenTestDb(path);
  auto report = RunAnalyze(conn, AnalyzeMode::kOptimize, 1000);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const nlohmann::json& d = report->checks[0].details;
  if (SqliteVersionNumber() < kOptimizeMinVersion) {
    EXPECT_EQ(d["mode"], "limited");
    EXPECT_EQ(d["requested_mode"], "optimize");
    EXPECT_EQ(d["analysis_limit"], 1000);
    ASSERT_TRUE(d.contains("fallback"));
    EXPECT_NE(d["fallback"].get<std::string>().find("3.46"), std::string::npos);
  } else {
    EXPECT_EQ(d["mode"], "optimize");
    EXPECT_FALSE(d.contains("fallback"));
  }
  EXPECT_GT(Stat1Rows(path), 0);  // either way the tables were analyzed
}

TEST(Analyze, BusyWhenAnotherWriterHoldsTheLock) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  MakeIndexedDb(path);
  Connection other = test::OpenTestDb(path);
  ASSERT_TRUE(other.Exec("BEGIN IMMEDIATE; INSERT INTO u VALUES(1);").ok());
  Connection conn = test::OpenTestDb(path, 50ms);
  auto t0 = std::chrono::steady_clock::now();
  auto report = RunAnalyze(conn, AnalyzeMode::kLimited, 100);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.status().busy()) << report.status().ToString();
  EXPECT_FALSE(conn.InTransaction());
  ASSERT_TRUE(other.Exec("COMMIT").ok());
  EXPECT_EQ(Stat1Rows(path), 0);  // nothing was written
}

TEST(AnalyzeJob, RunsConfiguredMode) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  MakeIndexedDb(path);
  ResolvedDatabase db = test::TestDbEntry(path);
  db.policy.analyze.mode = AnalyzeMode::kFull;
  Connection conn = test::OpenTestDb(path);
  auto job = MakeAnalyzeJob(db);
  EXPECT_EQ(job->name(), "analyze");
  EXPECT_EQ(job->traits().access, DbAccess::kWrites);
  EXPECT_FALSE(job->traits().proves_integrity);
  auto report = test::RunJobOnce(*job, db, conn);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->checks[0].details.at("mode"), "full");
  EXPECT_EQ(test::QueryText(path, "SELECT stat FROM sqlite_stat1 WHERE idx='t_k'"), "2000 40");
  EXPECT_FALSE(report->summary.empty());
}

}  // namespace
}  // namespace maintd
