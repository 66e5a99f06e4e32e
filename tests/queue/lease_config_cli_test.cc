// The real binary refuses lease rules that do not fit the schema or the data, before it
// writes anything: `validate-config` and `run` (the daemon's start) exit 78 with the config
// file, the key path and the reason. And a rule using every new key validates and prints a
// normalized config that validates again to the same text.
#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::ExecSql;
using test::RunMaintd;

class LeaseConfigCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("app.db");
    ExecSql(db_,
            "PRAGMA journal_mode=WAL;"
            // seconds, NOT NULL owner, runs left, a heartbeat in seconds too
            "CREATE TABLE jobs(id INTEGER PRIMARY KEY, status TEXT NOT NULL,"
            " owner TEXT NOT NULL DEFAULT '', expires INTEGER, beat INTEGER,"
            " runs_left INTEGER NOT NULL DEFAULT 3);"
            "INSERT INTO jobs(status, owner, expires, beat) VALUES"
            " ('leased', 'w1', strftime('%s', 'now') + 30, strftime('%s', 'now')),"
            " ('queued', '', NULL, NULL);"
            // milliseconds
            "CREATE TABLE jobs_ms(id INTEGER PRIMARY KEY, status TEXT, owner TEXT,"
            " expires INTEGER);"
            "INSERT INTO jobs_ms(status, owner, expires) VALUES"
            " ('leased', 'w1', CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 30250);");
  }
  std::string Config(const std::string& rule) {
    std::string path = dir_.File("config.yaml");
    test::WriteFile(path, "http: { listen: \"\" }\ndatabases:\n  - name: app\n    path: " + db_ +
                              "\n    lease_requeue:\n      - " + rule + "\n");
    return path;
  }
  // Both commands refuse `rule` with exit 78 naming the file and `key`.
  void ExpectRefused(const std::string& rule, const std::string& key, const std::string& words) {
    std::string config = Config(rule);
    for (const char* command : {"validate-config", "run"}) {
      auto r = RunMaintd({"--config", config, command});
      EXPECT_EQ(r.exit_code, 78) << command << " " << rule << "\n" << r.out << r.err;
      std::string expected = config + ": databases[";
      EXPECT_NE(r.err.find(expected), std::string::npos) << command << ": " << r.err;
      EXPECT_NE(r.err.find("lease_requeue[0]." + key + ": "), std::string::npos)
          << command << ": " << r.err;
      EXPECT_NE(r.err.find(words), std::string::npos) << command << ": " << r.err;
    }
    EXPECT_EQ(test::QueryInt(db_, "SELECT count(*) FROM jobs WHERE status = 'leased'"), 1);
  }

  test::TempDir dir_;
  std::string db_;
};

TEST_F(LeaseConfigCliTest, NullOwnerResetIntoANotNullColumn) {
  ExpectRefused("{ table: jobs, expires_column: expires, owner_column: owner }",
                "owner_reset_value", "is NOT NULL");
  auto r = RunMaintd({"--config",
                      Config("{ table: jobs, expires_column: expires, owner_column: owner, "
                             "owner_reset_value: \"\" }"),
                      "validate-config"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(LeaseConfigCliTest, TimeUnitContradictingTheData) {
  ExpectRefused("{ table: jobs, expires_column: expires, time_format: unix_ms }", "time_format",
                "reads as 1970-01-");
  ExpectRefused("{ table: jobs, heartbeat_column: beat, time_format: unix_ms }", "time_format",
                "every lease would count as expired at once");
  ExpectRefused("{ table: jobs_ms, expires_column: expires, time_format: unix }", "time_format",
                "no lease would ever expire; as unix_ms it reads as");
  ExpectRefused("{ table: jobs_ms, expires_column: expires, time_format: iso8601 }",
                "time_format", "reads as a time in iso8601");
  // The right units pass; so does an empty table.
  for (const char* good : {"{ table: jobs, expires_column: expires, owner_column: owner, owner_reset_value: x }",
                           "{ table: jobs_ms, expires_column: expires, time_format: unix_ms }"}) {
    auto r = RunMaintd({"--config", Config(good), "validate-config"});
    EXPECT_EQ(r.exit_code, 0) << good << "\n" << r.err;
  }
  ExecSql(db_, "DELETE FROM jobs_ms");
  auto r = RunMaintd({"--config", Config("{ table: jobs_ms, expires_column: expires }"),
                      "validate-config"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Retention is checked the same way: a `unix_ms` rule on a column of seconds would read every
// row as 1970 and delete them all.
TEST_F(LeaseConfigCliTest, RetentionTimeUnitContradictingTheData) {
  std::string path = dir_.File("retention.yaml");
  test::WriteFile(path, "http: { listen: \"\" }\ndatabases:\n  - name: app\n    path: " + db_ +
                            "\n    retention:\n      - { table: jobs, time_column: expires, "
                            "time_format: unix_ms, delete_after: 30d }\n");
  for (const char* command : {"validate-config", "run"}) {
    auto r = RunMaintd({"--config", path, command});
    EXPECT_EQ(r.exit_code, 78) << command << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("retention[0].time_format: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("every row would count as old enough to delete at once"),
              std::string::npos)
        << r.err;
  }
  EXPECT_EQ(test::QueryInt(db_, "SELECT count(*) FROM jobs"), 2);
}

TEST_F(LeaseConfigCliTest, ExactlyOneOfExpiresColumnAndHeartbeatColumn) {
  ExpectRefused("{ table: jobs, expires_column: expires, heartbeat_column: beat }",
                "heartbeat_column", "set exactly one, found both");
  ExpectRefused("{ table: jobs, expires_column: \"\" }", "expires_column", "found neither");
  ExpectRefused("{ table: jobs, expires_column: expires, stale_after: 1m }", "stale_after",
                "requires heartbeat_column");
}

TEST_F(LeaseConfigCliTest, AttemptsDirectionMisuse) {
  ExpectRefused("{ table: jobs, expires_column: expires, attempts_column: runs_left, "
                "attempts_direction: down, max_attempts: 3 }",
                "max_attempts", "is not used with attempts_direction: down");
  ExpectRefused("{ table: jobs, expires_column: expires, attempts_direction: down }",
                "attempts_direction", "down requires attempts_column");
  ExpectRefused("{ table: jobs, expires_column: expires, attempts_direction: sideways }",
                "attempts_direction", "'sideways' is not one of up, down");
}

TEST_F(LeaseConfigCliTest, EveryNewKeyValidatesAndPrintsAConfigThatValidatesAgain) {
  std::string config = Config(
      "table: jobs\n"
      "        heartbeat_column: beat\n"
      "        stale_after: 90s\n"
      "        grace: 2s\n"
      "        owner_column: owner\n"
      "        owner_reset_value: \"\"\n"
      "        attempts_column: runs_left\n"
      "        attempts_direction: down\n"
      "        dead_value: failed\n");
  auto r = RunMaintd({"--config", config, "validate-config"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* line :
       {"        heartbeat_column: \"beat\"\n        stale_after: 90s\n        time_format: unix\n"
        "        grace: 2s\n        owner_column: \"owner\"\n        owner_reset_value: \"\"\n"
        "        attempts_column: \"runs_left\"\n        attempts_direction: down\n"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << r.out;
  }
  EXPECT_EQ(r.out.find("expires_column"), std::string::npos) << r.out;
  std::string again = dir_.File("normalized.yaml");
  test::WriteFile(again, r.out);
  auto r2 = RunMaintd({"--config", again, "validate-config"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(r2.out, r.out);
}

}  // namespace
}  // namespace maintd
