// The queue rules through the real binary: `once --job lease_requeue|retention` with a
// config file, and keep_where mistakes refused as configuration errors (exit 78).
#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::ExecSql;
using test::QueryInt;
using test::RunMaintd;

class QueueCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("app.db");
    ExecSql(db_,
            "PRAGMA journal_mode=WAL;"
            "CREATE TABLE tasks(id INTEGER PRIMARY KEY, status TEXT, lease_expires_at INTEGER,"
            " leased_by TEXT, attempts INTEGER NOT NULL DEFAULT 0);"
            "INSERT INTO tasks VALUES (1, 'leased', 1000, 'w1', 0), (2, 'leased', 1000, 'w2', 5),"
            " (3, 'leased', strftime('%s', 'now') + 3600, 'w3', 0);"
            "CREATE TABLE events(id INTEGER PRIMARY KEY, created_at INTEGER, status TEXT);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 300)"
            " INSERT INTO events(created_at, status) SELECT strftime('%s', 'now') - "
            " CASE WHEN i <= 200 THEN 100 ELSE 10 END * 86400,"
            " CASE WHEN i % 10 = 0 THEN 'in_progress' ELSE 'done' END FROM n;");
  }
  std::string WriteConfig(const std::string& keep_where) {
    std::string text = R"yaml(http: { listen: "" }
databases:
  - name: app
    path: @DB@
    lease_requeue:
      - table: tasks
        owner_column: leased_by
        attempts_column: attempts
        max_attempts: 5
    retention:
      - table: events
        archive_after: 30d
        archive_to: @ARCHIVE@
        delete_after: 90d
        keep_where: "@KEEP@"
        batch: 50
        pause_between_batches: 1ms
)yaml";
    Replace(text, "@DB@", db_);
    Replace(text, "@ARCHIVE@", dir_.File("archive.db"));
    Replace(text, "@KEEP@", keep_where);
    std::string path = dir_.File("config.yaml");
    test::WriteFile(path, text);
    return path;
  }
  static void Replace(std::string& text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
  }
  test::TempDir dir_;
  std::string db_;
};

TEST_F(QueueCliTest, OnceRunsEachRuleAndJournalsItsCounts) {
  std::string config = WriteConfig("status = 'in_progress'");
  auto r = RunMaintd({"--config", config, "once", "--job", "lease_requeue", "app"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM tasks WHERE status = 'queued'"), 1);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM tasks WHERE status = 'dead'"), 1);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM tasks WHERE status = 'leased'"), 1);
  EXPECT_EQ(QueryInt(db_,
                     "SELECT json_extract(details, '$.requeued') * 10 + "
                     "json_extract(details, '$.dead') FROM sqlite_health_checks "
                     "WHERE check_type = 'lease_requeue'"),
            11);

  r = RunMaintd({"--config", config, "once", "--job", "retention", "app"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM events"), 100 + 20);
  EXPECT_EQ(QueryInt(dir_.File("archive.db"), "SELECT count(*) FROM events"), 180);
  EXPECT_EQ(QueryInt(db_,
                     "SELECT json_extract(details, '$.deleted') FROM sqlite_health_checks "
                     "WHERE check_type = 'retention'"),
            180);
}

TEST_F(QueueCliTest, KeepWhereThatIsNotOneExpressionIsExit78) {
  for (const char* bad :
       {"status = 'x'; DELETE FROM events", "status = = 1", "1) OR (1", "no_such_column = 1"}) {
    std::string config = WriteConfig(bad);
    auto r = RunMaintd({"--config", config, "validate-config"});
    EXPECT_EQ(r.exit_code, 78) << bad << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("keep_where"), std::string::npos) << r.err;
  }
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM events"), 300);
}

}  // namespace
}  // namespace maintd
