// The lease_requeue keys that fit real queue schemas, on real SQLite files with a fake clock:
// grace (never early for whole-second expiries), heartbeat_column + stale_after,
// attempts_direction: down (a runs-left counter), owner_reset_value (NOT NULL owners).
#include <gtest/gtest.h>

#include "lib/jobs/lease_requeue.h"
#include "tests/queue/queue_test_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::ExecSql;
using test::QueryInt;
using test::QueryText;

constexpr int64_t kNowS = 1767225600;  // 2026-01-01T00:00:00Z
const SystemTime kNow = SystemTime(std::chrono::seconds(kNowS));

class LeaseRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("queue.db");
    ExecSql(path_,
            "PRAGMA journal_mode=WAL;"
            "CREATE TABLE jobs(id INTEGER PRIMARY KEY, status TEXT NOT NULL,"
            " owner TEXT NOT NULL DEFAULT '', expires INTEGER, heartbeat_at REAL,"
            " runs_left INTEGER)");
    rule_.table = "jobs";
    rule_.expires_column = "expires";
    rule_.owner_column = "owner";
    rule_.owner_reset_value.kind = SqlValue::Kind::kText;  // ""
  }
  Result<JobReport> Run() {
    ResolvedDatabase db = test::QueueDb(path_);
    db.lease_requeue = {rule_};
    return test::RunJob(*MakeLeaseRequeueJob(db, 0), db, clock_);
  }
  void Insert(int id, double expires, const std::string& runs_left = "NULL") {
    ExecSql(path_, "INSERT INTO jobs(id, status, owner, expires, heartbeat_at, runs_left) VALUES(" +
                       std::to_string(id) + ", 'leased', 'w" + std::to_string(id) + "', " +
                       std::to_string(static_cast<int64_t>(expires)) + ", " +
                       std::to_string(expires) + ", " + runs_left + ")");
  }
  std::string Row(int id) {
    return QueryText(path_,
                     "SELECT status || '|' || quote(owner) || '|' || coalesce(runs_left, 'NULL') "
                     "FROM jobs WHERE id = " +
                         std::to_string(id));
  }

  test::TempDir dir_;
  std::string path_;
  LeaseRequeueRule rule_;
  FakeClock clock_{kNow};
};

TEST_F(LeaseRulesTest, GraceIsTheDefaultAndTheBoundaryIsStrict) {
  const LeaseRequeueRule defaults;
  EXPECT_EQ(defaults.grace, Millis(30s));
  Insert(1, kNowS - 31);  // expired 31 s ago: past the grace
  Insert(2, kNowS - 30);  // exactly at now - grace: not yet
  Insert(3, kNowS - 10);
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Row(1), "queued|''|NULL");
  EXPECT_EQ(Row(2), "leased|'w2'|NULL");
  EXPECT_EQ(Row(3), "leased|'w3'|NULL");
  clock_.Advance(1ms);
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(Row(2), "queued|''|NULL");
  EXPECT_EQ(Row(3), "leased|'w3'|NULL");
}

// The library's lease really ends at kNowS + 0.9 but it stores floor() = kNowS. At kNowS + 0.5
// the lease is valid: without a grace the millisecond comparison takes it back early.
TEST_F(LeaseRulesTest, WholeSecondExpiryIsNeverRequeuedEarlyWithAGraceOfOneSecond) {
  Insert(1, kNowS);
  clock_.Advance(500ms);
  rule_.grace = Millis(0);
  LeaseRequeueRule no_grace = rule_;
  rule_.grace = 1s;
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(Row(1), "leased|'w1'|NULL");  // with the grace: left alone
  rule_ = no_grace;
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(Row(1), "queued|''|NULL");  // without: requeued 0.4 s before the lease ended

  ExecSql(path_, "UPDATE jobs SET status = 'leased', owner = 'w1'");
  rule_.grace = 1s;
  clock_.Advance(500ms);  // kNowS + 1.0: floor(end) + grace, not past it yet
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(Row(1), "leased|'w1'|NULL");
  clock_.Advance(1ms);
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(Row(1), "queued|''|NULL");
}

TEST_F(LeaseRulesTest, HeartbeatOlderThanStaleAfterPlusGrace) {
  ExecSql(path_, "CREATE TABLE beats(id INTEGER PRIMARY KEY, status TEXT, owner TEXT,"
                 " beat_ms INTEGER)");  // no expiry column at all
  ExecSql(path_, "INSERT INTO beats VALUES (1, 'leased', 'a', " +
                     std::to_string((kNowS - 66) * 1000) + "), (2, 'leased', 'b', " +
                     std::to_string((kNowS - 65) * 1000) + "), (3, 'leased', 'c', " +
                     std::to_string((kNowS - 1) * 1000) + "), (4, 'leased', 'd', NULL)");
  rule_.table = "beats";
  rule_.expires_column = "";
  rule_.heartbeat_column = "beat_ms";
  rule_.time_format = TimeFormat::kUnixMs;
  rule_.stale_after = 60s;
  rule_.grace = 5s;
  rule_.owner_reset_value = SqlValue{};  // NULL: the column allows it
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(test::Details(*r)["requeued"], 1);
  auto owners = "SELECT group_concat(id || status || coalesce(owner, '-'), ' ') FROM beats";
  EXPECT_EQ(QueryText(path_, owners), "1queued- 2leasedb 3leasedc 4leasedd");
  clock_.Advance(1ms);  // beat 2 is now older than 65 s
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(QueryText(path_, owners), "1queued- 2queued- 3leasedc 4leasedd");
}

TEST_F(LeaseRulesTest, RunsLeftCountsDownAndDeadLettersAtZero) {
  rule_.attempts_column = "runs_left";
  rule_.attempts_direction = AttemptsDirection::kDown;
  const char* counters[] = {"3", "1", "0", "-1", "NULL"};
  for (int i = 0; i < 5; ++i) Insert(i + 1, kNowS - 60, counters[i]);
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Row(1), "queued|''|2");     // runs left: requeued, one fewer
  EXPECT_EQ(Row(2), "queued|''|0");     // its last run is still to come
  EXPECT_EQ(Row(3), "dead|'w3'|0");     // reached 0: dead, counter and owner kept
  EXPECT_EQ(Row(4), "dead|'w4'|-1");
  EXPECT_EQ(Row(5), "dead|'w5'|NULL");  // NULL counts as 0
  EXPECT_EQ(test::Details(*r)["requeued"], 2);
  EXPECT_EQ(test::Details(*r)["dead"], 3);
  // The last run of row 2 expires too: dead now.
  ExecSql(path_, "UPDATE jobs SET status = 'leased', owner = 'again' WHERE id = 2");
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(Row(2), "dead|'again'|0");
}

TEST_F(LeaseRulesTest, OwnerResetValueIsBoundAsItsType) {
  ExecSql(path_, "CREATE TABLE t(id INTEGER PRIMARY KEY, status TEXT, expires INTEGER, owner)");
  ExecSql(path_, "INSERT INTO t VALUES (1, 'leased', 5, 'w')");
  rule_.table = "t";
  auto owner_after_requeue = [&](SqlValue v) {
    ExecSql(path_, "UPDATE t SET status = 'leased', owner = 'w'");
    rule_.owner_reset_value = v;
    EXPECT_TRUE(Run().ok());
    return QueryText(path_, "SELECT typeof(owner) || ':' || quote(owner) FROM t");
  };
  EXPECT_EQ(owner_after_requeue(SqlValue{}), "null:NULL");
  EXPECT_EQ(owner_after_requeue({SqlValue::Kind::kText, 0, 0, ""}), "text:''");
  EXPECT_EQ(owner_after_requeue({SqlValue::Kind::kText, 0, 0, "0"}), "text:'0'");
  EXPECT_EQ(owner_after_requeue({SqlValue::Kind::kInteger, 0, 0, ""}), "integer:0");
  EXPECT_EQ(owner_after_requeue({SqlValue::Kind::kReal, 0, -1.5, ""}), "real:-1.5");
}

// The schema can change under a running daemon: the job checks before it writes.
TEST_F(LeaseRulesTest, NullIntoANotNullOwnerIsRefusedBeforeAnyWrite) {
  Insert(1, kNowS - 60);
  rule_.owner_reset_value = SqlValue{};
  auto r = Run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConfig);
  EXPECT_NE(r.status().message().find("lease_requeue[0].owner_reset_value"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("NOT NULL"), std::string::npos);
  EXPECT_EQ(Row(1), "leased|'w1'|NULL");
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM jobs WHERE status = 'leased'"), 1);
}

}  // namespace
}  // namespace maintd
