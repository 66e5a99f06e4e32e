// CheckRulesAgainstSchema: every table and column named must exist, keep_where must be one
// expression, archive settings must make sense. Errors are Status::Config naming the key.
#include "lib/queue/schema_check.h"

#include <gtest/gtest.h>

#include "tests/queue/queue_test_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::ExecSql;
using test::TempDir;

class SchemaCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("app.db");
    ExecSql(path_,
            "CREATE TABLE tasks(id INTEGER PRIMARY KEY, status TEXT, lease_expires_at INTEGER,"
            " leased_by TEXT, attempts INTEGER);"
            "CREATE TABLE events(id INTEGER PRIMARY KEY, created_at INTEGER, status TEXT);"
            "CREATE TABLE kv(k TEXT PRIMARY KEY, created_at INTEGER) WITHOUT ROWID;"
            "CREATE VIEW recent AS SELECT * FROM events;");
    db_ = test::QueueDb(path_);
  }
  LeaseRequeueRule Lease() {
    LeaseRequeueRule r;
    r.table = "tasks";
    r.owner_column = "leased_by";
    r.attempts_column = "attempts";
    r.max_attempts = 3;
    return r;
  }
  RetentionRule Retention() {
    RetentionRule r;
    r.table = "events";
    return r;
  }
  Status CheckRetention(const RetentionRule& r) {
    db_.lease_requeue.clear();
    db_.retention = {r};
    return CheckRulesAgainstSchema(db_);
  }
  Status CheckLease(const LeaseRequeueRule& r) {
    db_.retention.clear();
    db_.lease_requeue = {r};
    return CheckRulesAgainstSchema(db_);
  }
  void ExpectConfig(const Status& s, const std::string& key, const std::string& words) {
    EXPECT_EQ(s.code(), StatusCode::kConfig) << s.ToString();
    EXPECT_NE(s.message().find(key), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
  }

  TempDir dir_;
  std::string path_;
  ResolvedDatabase db_;
};

TEST_F(SchemaCheckTest, ValidRulesPass) {
  db_.lease_requeue = {Lease()};
  RetentionRule r = Retention();
  r.keep_where = "status = 'in_progress' -- pinned rows\n OR id IN (SELECT 1)";
  r.archive_after = Millis(24h);
  r.archive_to = dir_.File("archive.db");
  db_.retention = {r};
  Status s = CheckRulesAgainstSchema(db_);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(SchemaCheckTest, ColumnNamesAreCaseInsensitiveLikeSqlite) {
  LeaseRequeueRule r = Lease();
  r.table = "TASKS";
  r.status_column = "Status";
  EXPECT_TRUE(CheckLease(r).ok());
}

TEST_F(SchemaCheckTest, UnknownTableOrColumnIsAConfigError) {
  LeaseRequeueRule r = Lease();
  r.table = "taks";
  ExpectConfig(CheckLease(r), "databases[q].lease_requeue[0].table", "no table 'taks'");
  r = Lease();
  r.expires_column = "expires";
  ExpectConfig(CheckLease(r), "databases[q].lease_requeue[0].expires_column",
               "no column 'expires'");
  r = Lease();
  r.owner_column = "owner";
  ExpectConfig(CheckLease(r), "lease_requeue[0].owner_column", "no column 'owner'");
  r = Lease();
  r.attempts_column = "tries";
  ExpectConfig(CheckLease(r), "lease_requeue[0].attempts_column", "no column 'tries'");
  RetentionRule t = Retention();
  t.time_column = "ts";
  ExpectConfig(CheckRetention(t), "databases[q].retention[0].time_column", "no column 'ts'");
}

TEST_F(SchemaCheckTest, ViewsAndWithoutRowidTablesAreRefused) {
  RetentionRule t = Retention();
  t.table = "recent";
  ExpectConfig(CheckRetention(t), "retention[0].table", "no table 'recent'");
  t.table = "kv";
  ExpectConfig(CheckRetention(t), "retention[0].table", "WITHOUT ROWID");
}

TEST_F(SchemaCheckTest, KeepWhereMustBeOneExpression) {
  const std::string key = "databases[q].retention[0].keep_where";
  RetentionRule t = Retention();
  t.keep_where = "status = 'x'; DELETE FROM events";
  ExpectConfig(CheckRetention(t), key, "';' is not allowed");
  t.keep_where = "status = 'x';";
  ExpectConfig(CheckRetention(t), key, "';' is not allowed");
  t.keep_where = "1) UNION SELECT 1 FROM sqlite_master WHERE (1";
  ExpectConfig(CheckRetention(t), key, "not a single expression");
  t.keep_where = "1) OR (1";
  ExpectConfig(CheckRetention(t), key, "not a single expression");
  t.keep_where = "status = = 'x'";
  ExpectConfig(CheckRetention(t), key, "does not compile");
  t.keep_where = "nosuchcolumn = 1";
  ExpectConfig(CheckRetention(t), key, "no such column");
  t.keep_where = "(status = 'x'";
  ExpectConfig(CheckRetention(t), key, "unbalanced");
  t.keep_where = "status = 'it''s (not'";  // parentheses inside a literal don't count
  EXPECT_TRUE(CheckRetention(t).ok());
  t.keep_where = "status = 'x' -- trailing comment";
  EXPECT_TRUE(CheckRetention(t).ok());
}

TEST_F(SchemaCheckTest, ArchiveSettingsAreChecked) {
  RetentionRule t = Retention();
  t.archive_after = Millis(24h);
  t.archive_to = dir_.File("missing-dir/archive.db");
  ExpectConfig(CheckRetention(t), "retention[0].archive_to", "does not exist");
  t.archive_to = dir_.File("archive.db");
  t.archive_after = t.delete_after + Millis(1h);
  ExpectConfig(CheckRetention(t), "retention[0].archive_after", "must not be longer");
  t.archive_after.reset();
  ExpectConfig(CheckRetention(t), "retention[0].archive_to", "go together");
  // An existing archive table with a different schema.
  t.archive_after = Millis(24h);
  ExecSql(t.archive_to, "CREATE TABLE events(id INTEGER PRIMARY KEY, created_at INTEGER)");
  ExpectConfig(CheckRetention(t), "retention[0].archive_to", "no column 'status'");
}

TEST_F(SchemaCheckTest, MaxAttemptsNeedsAnAttemptsColumn) {
  LeaseRequeueRule r = Lease();
  r.attempts_column = "";
  ExpectConfig(CheckLease(r), "lease_requeue[0].max_attempts", "requires attempts_column");
}

TEST_F(SchemaCheckTest, MissingDatabaseIsNotFound) {
  db_.path = dir_.File("nope.db");
  db_.retention = {Retention()};
  EXPECT_EQ(CheckRulesAgainstSchema(db_).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace maintd
