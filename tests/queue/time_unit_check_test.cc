// CheckTimeUnit: a time_format that puts every sampled lease decades away is refused, with
// the values seen, what they mean and the format that fits; the sample stays bounded.
// And the NOT NULL owner check of CheckRulesAgainstSchema.
#include "lib/queue/time_unit_check.h"

#include <gtest/gtest.h>

#include "lib/queue/schema_check.h"
#include "tests/queue/queue_test_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::ExecSql;

constexpr int64_t kNowS = 1767225600;  // 2026-01-01T00:00:00Z
const SystemTime kNow = SystemTime(std::chrono::seconds(kNowS));
const char* kKey = "databases[q].lease_requeue[0].time_format";

class TimeUnitCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("q.db");
    ExecSql(path_, "CREATE TABLE t(id INTEGER PRIMARY KEY, status TEXT, v, owner TEXT NOT NULL)");
  }
  // Inserts values `first`, `first + step`, ... (`n` rows) into column v.
  void Fill(int n, const std::string& first, const std::string& step = "1") {
    ExecSql(path_, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i < " +
                       std::to_string(n - 1) + ") INSERT INTO t(status, v, owner) SELECT 'leased', " +
                       first + " + i * " + step + ", 'w' FROM n");
  }
  Status Check(TimeFormat format) {
    auto conn = Connection::Open(path_);
    EXPECT_TRUE(conn.ok());
    return CheckTimeUnit(*conn, kKey, "t", "v", format, kNow);
  }
  void ExpectRefused(TimeFormat format, const std::vector<std::string>& words) {
    Status s = Check(format);
    EXPECT_EQ(s.code(), StatusCode::kConfig) << ToString(format);
    for (const auto& w : words) EXPECT_NE(s.message().find(w), std::string::npos) << s.message();
  }

  test::TempDir dir_;
  std::string path_;
};

TEST_F(TimeUnitCheckTest, EmptyOrAllNullPasses) {
  for (auto f : {TimeFormat::kUnix, TimeFormat::kUnixMs, TimeFormat::kIso8601}) {
    EXPECT_TRUE(Check(f).ok());
  }
  ExecSql(path_, "INSERT INTO t(status, v, owner) VALUES ('done', NULL, '')");
  EXPECT_TRUE(Check(TimeFormat::kUnixMs).ok());
}

TEST_F(TimeUnitCheckTest, SecondsReadAsMillisecondsAre1970) {
  Fill(50, std::to_string(kNowS - 100), "10");
  EXPECT_TRUE(Check(TimeFormat::kUnix).ok());
  ExpectRefused(TimeFormat::kUnixMs,
                {std::string(kKey) + ": unix_ms, but the values of 't.v' (" +
                     std::to_string(kNowS - 100) + " to " + std::to_string(kNowS + 390),
                 "50 sampled): they read as 1970-01-21T", "more than 20 years in the past",
                 "every lease would count as expired at once",
                 "as unix they read as 2025-12-31T23:58:20Z to 2026-01-01T00:06:30Z",
                 "time_format: unix?"});
}

TEST_F(TimeUnitCheckTest, MillisecondsReadAsSecondsAreTheYear57971) {
  Fill(20, std::to_string(kNowS * 1000 + 250), "1000");
  EXPECT_TRUE(Check(TimeFormat::kUnixMs).ok());
  ExpectRefused(TimeFormat::kUnix, {"unix, but", "they read as the year 57971 to the year 57971",
                                    "in the future: no lease would ever expire",
                                    "as unix_ms they read as 2026-01-01T00:00:00Z"});
}

TEST_F(TimeUnitCheckTest, Iso8601AgainstNumbersAndNumbersAgainstText) {
  Fill(5, std::to_string(kNowS));
  ExpectRefused(TimeFormat::kIso8601,
                {"iso8601, but none of the 5 sampled values of 't.v' (e.g. 17672256",
                 ") reads as a time in iso8601: no lease would ever expire; as unix it reads as "
                 "2026-01-01T00:00:0",
                 "time_format: unix?"});
  ExecSql(path_, "DELETE FROM t; INSERT INTO t(status, v, owner) VALUES"
                 " ('leased', '2026-01-01T00:00:30Z', 'w'), ('leased', '2026-01-01 00:01:00', 'w')");
  EXPECT_TRUE(Check(TimeFormat::kIso8601).ok());
  ExpectRefused(TimeFormat::kUnix, {"none of the 2 sampled values", "the column holds text: "
                                                                      "iso8601?"});
}

TEST_F(TimeUnitCheckTest, AMixWithValuesNearNowPasses) {
  Fill(10, std::to_string(kNowS));
  ExecSql(path_, "INSERT INTO t(status, v, owner) VALUES ('leased', 0, 'w'), ('leased', 1000, 'w')");
  EXPECT_TRUE(Check(TimeFormat::kUnix).ok());
}

// The newest 1000 rows carry no time; the older ones are seconds. Without an index on the
// column the bounded sample sees nothing and passes; with one, its two ends are read.
TEST_F(TimeUnitCheckTest, SampleIsBoundedAndUsesAnIndexLeadingWithTheColumn) {
  Fill(3000, std::to_string(kNowS));
  Fill(1000, "NULL");
  EXPECT_TRUE(Check(TimeFormat::kUnixMs).ok());
  ExecSql(path_, "CREATE INDEX t_v ON t(v)");
  ExpectRefused(TimeFormat::kUnixMs, {"2 sampled", "1970-01-21T"});
}

TEST_F(TimeUnitCheckTest, DescribesMomentsBeyondTheCalendar) {
  EXPECT_EQ(DescribeUnixSeconds(static_cast<double>(kNowS)), "2026-01-01T00:00:00Z");
  EXPECT_EQ(DescribeUnixSeconds(1.767e15), "the year 55995970");
  EXPECT_EQ(DescribeUnixSeconds(-1e12), "the year -29719");
}

// Through CheckRulesAgainstSchema (the daemon's start and validate-config), with the real
// clock: the time unit under time_format, the NOT NULL owner under owner_reset_value.
TEST_F(TimeUnitCheckTest, RulesAgainstSchemaNameTheKey) {
  int64_t now = static_cast<int64_t>(time(nullptr));
  Fill(5, std::to_string(now));
  ResolvedDatabase db = test::QueueDb(path_);
  LeaseRequeueRule rule;
  rule.table = "t";
  rule.expires_column = "v";
  rule.owner_column = "owner";
  rule.owner_reset_value.kind = SqlValue::Kind::kText;
  db.lease_requeue = {rule};
  EXPECT_TRUE(CheckRulesAgainstSchema(db).ok());
  db.lease_requeue[0].time_format = TimeFormat::kUnixMs;
  Status s = CheckRulesAgainstSchema(db);
  EXPECT_EQ(s.code(), StatusCode::kConfig);
  EXPECT_EQ(s.message().rfind(kKey, 0), 0u) << s.message();
  db.lease_requeue[0] = rule;
  db.lease_requeue[0].owner_reset_value = SqlValue{};
  s = CheckRulesAgainstSchema(db);
  EXPECT_EQ(s.code(), StatusCode::kConfig);
  EXPECT_EQ(s.message().rfind("databases[q].lease_requeue[0].owner_reset_value: null (the "
                              "default), but column 'owner' of table 't' is NOT NULL",
                              0),
            0u)
      << s.message();
  db.lease_requeue[0] = rule;
  db.lease_requeue[0].expires_column = "";
  db.lease_requeue[0].heartbeat_column = "v";
  db.lease_requeue[0].time_format = TimeFormat::kUnixMs;
  s = CheckRulesAgainstSchema(db);
  EXPECT_NE(s.message().find("time_format: unix_ms, but the values of 't.v'"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace maintd
