// End-to-end: the real binary, real files, a separate writer process.
#include <signal.h>

#include <filesystem>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

std::string ConfigWith(const std::string& db, const std::string& extra_db_keys = "") {
  return "databases:\n  - name: app\n    path: " + db + "\n" + extra_db_keys;
}

TEST(OnceE2E, CheckpointAnalyzeHealthUnderAWriter) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 5000, 400);
  // Grow the WAL past the truncate threshold: no auto-checkpoint for this filler, and the
  // connection stays open so that closing it does not checkpoint the WAL away.
  HeldConnection app(db);
  app.Exec("PRAGMA wal_autocheckpoint=0; UPDATE items SET body = body || 'x';"
           "UPDATE items SET body = body || 'y';");
  ASSERT_GT(std::filesystem::file_size(db + "-wal"), 1u << 20);
  std::string config = dir.File("c.yaml");
  WriteFile(config, ConfigWith(db, "    checkpoint: { truncate_wal_above: 1MiB }\n"));

  Writer writer(db, dir.path(), 5);
  ASSERT_TRUE(writer.WaitForCommits(20, std::chrono::seconds(10)));
  for (const char* job : {"checkpoint", "analyze", "health"}) {
    auto r = RunMaintd({"--config", config, "once", "--job", job, "app"});
    EXPECT_EQ(r.exit_code, 0) << job << "\n" << r.out << r.err;
  }
  auto summary = writer.Stop();
  EXPECT_EQ(summary["errors"], 0) << summary.dump();
  EXPECT_GT(summary["commits"].get<int>(), 20);

  // Journal rows exactly as CONTRACT.md section 7 says.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_health_checks WHERE check_type="
                         "'checkpoint' AND db_path='" + db + "'"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_health_checks WHERE check_type="
                         "'analyze'"), 1);
  // The checkpoint (the first write) ran the integrity gate's quick_check; analyze, a new
  // process, took the journal's fresh row as evidence; health ran its own.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_health_checks WHERE check_type="
                         "'quick_check'"), 2);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_health_checks WHERE check_type="
                         "'quick_check' AND details->>'reason' LIKE 'integrity gate%'"), 1);
  for (const char* check : {"fragmentation", "wal_size", "db_size", "free_disk",
                            "filesystem", "journal_mode"}) {
    EXPECT_EQ(QueryInt(db, std::string("SELECT count(*) FROM sqlite_health_checks WHERE "
                                       "check_type='") + check + "'"), 1) << check;
  }
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_health_checks WHERE status NOT IN "
                         "('healthy','warning','critical') OR NOT json_valid(details) OR "
                         "json_type(details) <> 'object' OR checked_ts IS NULL"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_health_checks WHERE "
                         "json_extract(details, '$.duration_ms') IS NULL"), 0);
  // Above truncate_wal_above the checkpoint escalates to TRUNCATE, unless the writer's read
  // transaction holds the log at that moment (then PASSIVE, "held back": escalated=false);
  // on a busy machine either happens, and the row says which.
  const std::string mode = QueryText(db, "SELECT json_extract(details, '$.mode') FROM "
                                         "sqlite_health_checks WHERE check_type='checkpoint'");
  const std::string escalated =
      QueryText(db, "SELECT json_extract(details, '$.escalated') FROM sqlite_health_checks "
                    "WHERE check_type='checkpoint'");
  EXPECT_TRUE((mode == "truncate" && escalated == "1") || (mode == "passive" && escalated == "0"))
      << "mode " << mode << ", escalated " << escalated;
  EXPECT_GT(QueryInt(db, "SELECT count(*) FROM sqlite_performance_metrics WHERE unit IN "
                         "('ms','pages','bytes','rows')"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_performance_metrics WHERE unit NOT IN "
                         "('ms','pages','bytes','rows')"), 0);
  EXPECT_GT(QueryInt(db, "SELECT count(*) FROM sqlite_stat1"), 0);
  // The application's schema and user_version are untouched.
  EXPECT_EQ(QueryInt(db, "PRAGMA user_version"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                         "tbl_name LIKE 'sqlite_%' AND tbl_name NOT LIKE 'sqlite_stat%'"), 0);
}

TEST(OnceE2E, TruncatesTheWalAboveTheThreshold) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 5000, 400);
  HeldConnection app(db);
  app.Exec("PRAGMA wal_autocheckpoint=0; UPDATE items SET body = body || 'x';");
  ASSERT_GT(std::filesystem::file_size(db + "-wal"), 1u << 20);
  std::string config = dir.File("c.yaml");
  WriteFile(config, ConfigWith(db, "    checkpoint: { truncate_wal_above: 1MiB }\n"));
  auto r = RunMaintd({"--config", config, "once", "--job", "checkpoint"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The journal row itself lands in the WAL again: a few pages at most.
  EXPECT_LT(std::filesystem::file_size(db + "-wal"), 64u * 1024);
}

TEST(OnceE2E, NoConfigNeededForAPath) {
  TempDir dir;
  std::string db = dir.File("plain.db");
  MakeWalDb(db, 100);
  auto r = RunMaintd({"once", "--job", "health", db}, {{"SQLITE_MAINTD_CONFIG", ""}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("plain health healthy"), std::string::npos) << r.out;
  auto status = RunMaintd({"status", "--json", db});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto j = nlohmann::json::parse(status.out);
  EXPECT_EQ(j["journal_mode"], "wal");
  EXPECT_EQ(j["jobs"]["quick_check"]["status"], "healthy");
}

TEST(OnceE2E, SecondMaintainerGetsExit75) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 100);
  ChildProcess daemon({MaintdBinary(), "run", db}, {}, dir.path());
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(db + "-maintd.lock") &&
                                   ReadFile(db + "-maintd.lock").find('\n') !=
                                       std::string::npos; },
                      std::chrono::seconds(10)));
  // The daemon writes its pid into the lock file once it holds it.
  auto r = RunMaintd({"once", "--job", "checkpoint", db});
  EXPECT_EQ(r.exit_code, 75) << r.out << r.err;
  EXPECT_NE(r.err.find("another maintainer"), std::string::npos) << r.err;
  // Read-only commands take no lock.
  EXPECT_EQ(RunMaintd({"status", db}).exit_code, 0);
  EXPECT_EQ(RunMaintd({"check", db}).exit_code, 0);
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(std::chrono::seconds(25)), 0);
}

TEST(OnceE2E, UnknownJobIsAUsageError) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 10);
  auto r = RunMaintd({"once", "--job", "defrag", db});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown job 'defrag'"), std::string::npos) << r.err;
}

TEST(OnceE2E, CheckFindsCorruption) {
  TempDir dir;
  std::string db = dir.File("bad.db");
  ExecSql(db, "PRAGMA page_size=1024; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
              "CREATE INDEX t_v ON t(v);"
              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<3000) "
              "INSERT INTO t(v) SELECT hex(randomblob(40)) FROM n;");
  EXPECT_EQ(RunMaintd({"check", db}).exit_code, 0);
  int64_t root = QueryInt(db, "SELECT rootpage FROM sqlite_master WHERE name='t_v'");
  std::string bytes = ReadFile(db);
  // Scribble over the index's root page (after its header).
  for (size_t i = static_cast<size_t>((root - 1) * 1024 + 100);
       i < static_cast<size_t>(root * 1024) && i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>(0xA5);
  }
  WriteFile(db, bytes);
  auto r = RunMaintd({"check", "--full", db});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAILED"), std::string::npos) << r.out;
}

// A rule that does not fit the database (checked again by the job before it writes) is a
// config problem: exit 78 naming the key, as validate-config and daemon start say.
TEST(OnceE2E, RetentionRuleThatDoesNotFitTheSchemaExits78) {
  TempDir dir;
  std::string db = dir.File("app.db");
  ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE events(id INTEGER PRIMARY KEY, "
              "created_at INTEGER, body TEXT); INSERT INTO events VALUES (1, 0, 'x');");
  std::string config = dir.File("c.yaml");
  WriteFile(config, ConfigWith(db, "    retention:\n      - { table: events, time_column: ts, "
                                   "delete_after: 30d }\n"));
  auto r = RunMaintd({"--config", config, "once", "--job", "retention", "app"});
  EXPECT_EQ(r.exit_code, 78) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("retention[0].time_column"), std::string::npos) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("no column 'ts'"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM events"), 1);
  EXPECT_EQ(RunMaintd({"--config", config, "validate-config"}).exit_code, 78);
}

}  // namespace
}  // namespace maintd::test
