// The lease_requeue job against real SQLite files, driven by a fake clock: which rows move,
// what they become, batching, the three time formats, quoting, stop.
#include "lib/jobs/lease_requeue.h"

#include <gtest/gtest.h>

#include "tests/queue/queue_test_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::ExecSql;
using test::QueryInt;
using test::QueryText;
using test::TempDir;

// 2026-01-01T00:00:00Z
const SystemTime kNow = SystemTime(std::chrono::seconds(1767225600));

class LeaseRequeueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("queue.db");
    ExecSql(path_,
            "PRAGMA journal_mode=WAL;"
            "CREATE TABLE tasks(id INTEGER PRIMARY KEY, status TEXT, lease_expires_at,"
            " leased_by TEXT, attempts INTEGER DEFAULT 0)");
    rule_.table = "tasks";
    rule_.owner_column = "leased_by";
    rule_.attempts_column = "attempts";
    rule_.grace = Millis(0);  // the exact comparison; grace: lease_rules_test.cc
  }
  Result<JobReport> Run() {
    ResolvedDatabase db = test::QueueDb(path_);
    db.lease_requeue = {rule_};
    auto job = MakeLeaseRequeueJob(db, 0);
    EXPECT_EQ(job->name(), "lease_requeue");
    return test::RunJob(*job, db, clock_);
  }
  std::string Row(int id) {
    return QueryText(path_,
                     "SELECT status || '|' || coalesce(leased_by, 'NULL') || '|' || "
                     "coalesce(attempts, 'NULL') FROM tasks WHERE id = " +
                         std::to_string(id));
  }

  TempDir dir_;
  std::string path_;
  LeaseRequeueRule rule_;
  FakeClock clock_{kNow};
};

TEST_F(LeaseRequeueTest, RequeuesOnlyExpiredLeases) {
  // now = 1767225600
  ExecSql(path_, R"sql(INSERT INTO tasks VALUES
      (1, 'leased', 1767225600 - 10, 'w1', 0),      -- expired
      (2, 'leased', 1767225600 + 10, 'w2', 0),      -- valid
      (3, 'leased', 1767225600, 'w3', 0),           -- ends now: still valid
      (4, 'queued', 1767225600 - 10, NULL, 1),      -- not leased
      (5, 'done', 1767225600 - 10, 'w5', 1),
      (6, 'leased', NULL, 'w6', 0),                 -- no expiry: never requeued
      (7, 'leased', 1767225599.5, 'w7', NULL))sql");  // real seconds; attempts NULL
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Row(1), "queued|NULL|1");
  EXPECT_EQ(Row(2), "leased|w2|0");
  EXPECT_EQ(Row(3), "leased|w3|0");
  EXPECT_EQ(Row(4), "queued|NULL|1");
  EXPECT_EQ(Row(5), "done|w5|1");
  EXPECT_EQ(Row(6), "leased|w6|0");
  EXPECT_EQ(Row(7), "queued|NULL|1");
  auto d = test::Details(*r);
  EXPECT_EQ(d["requeued"], 2);
  EXPECT_EQ(d["dead"], 0);
  EXPECT_EQ(d["batches"], 1);
  EXPECT_EQ(d["table"], "tasks");
  EXPECT_TRUE(d.contains("duration_ms"));
  EXPECT_EQ(r->checks[0].check_type, "lease_requeue");
  EXPECT_EQ(r->status, HealthStatus::kHealthy);
  // Run again: nothing left to requeue, nothing requeued twice.
  auto again = Run();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(test::Details(*again)["requeued"], 0);
  EXPECT_EQ(Row(1), "queued|NULL|1");
}

TEST_F(LeaseRequeueTest, DeadLettersExactlyAtMaxAttempts) {
  rule_.max_attempts = 3;
  int64_t past = 1767225600 - 5;
  for (int attempts = 0; attempts <= 5; ++attempts) {
    ExecSql(path_, "INSERT INTO tasks VALUES(" + std::to_string(attempts + 1) + ", 'leased', " +
                       std::to_string(past) + ", 'w', " + std::to_string(attempts) + ")");
  }
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Row(1), "queued|NULL|1");  // attempts 0 -> requeued, 1
  EXPECT_EQ(Row(2), "queued|NULL|2");
  EXPECT_EQ(Row(3), "queued|NULL|3");  // 2 < 3: requeued; now at max
  EXPECT_EQ(Row(4), "dead|w|3");       // 3 >= 3: dead, attempts and owner kept
  EXPECT_EQ(Row(5), "dead|w|4");
  EXPECT_EQ(Row(6), "dead|w|5");
  auto d = test::Details(*r);
  EXPECT_EQ(d["requeued"], 3);
  EXPECT_EQ(d["dead"], 3);
}

TEST_F(LeaseRequeueTest, BatchesUntilAShortOne) {
  rule_.batch = 5;
  ExecSql(path_,
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 23) "
          "INSERT INTO tasks SELECT i, 'leased', 1000, 'w', 0 FROM n");
  auto r = Run();
  ASSERT_TRUE(r.ok());
  auto d = test::Details(*r);
  EXPECT_EQ(d["requeued"], 23);
  EXPECT_EQ(d["batches"], 5);  // 5+5+5+5+3
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM tasks WHERE status='queued' AND attempts=1"), 23);
}

TEST_F(LeaseRequeueTest, UnixMillis) {
  rule_.time_format = TimeFormat::kUnixMs;
  int64_t now_ms = 1767225600000;
  ExecSql(path_, "INSERT INTO tasks VALUES(1, 'leased', " + std::to_string(now_ms - 1) +
                     ", 'a', 0), (2, 'leased', " + std::to_string(now_ms + 1) + ", 'b', 0)");
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(Row(1), "queued|NULL|1");
  EXPECT_EQ(Row(2), "leased|b|0");
}

TEST_F(LeaseRequeueTest, Iso8601InEverySpellingSqliteReads) {
  rule_.time_format = TimeFormat::kIso8601;
  // now = 2026-01-01T00:00:00Z
  ExecSql(path_,
          "INSERT INTO tasks VALUES"
          "(1, 'leased', '2025-12-31 23:59:59', 'a', 0),"        // past, no zone = UTC
          "(2, 'leased', '2025-12-31T23:59:59.999Z', 'b', 0),"   // past by 1 ms
          "(3, 'leased', '2026-01-01T00:00:00.001Z', 'c', 0),"   // future by 1 ms
          "(4, 'leased', '2026-01-01T00:30:00+01:00', 'd', 0),"  // 23:30Z: past
          "(5, 'leased', '2025-12-31T23:30:00-01:00', 'e', 0),"  // 00:30Z: future
          "(6, 'leased', 'not a time', 'f', 0),"                 // never expires
          "(7, 'leased', '2026-01-02', 'g', 0)");                // future
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Row(1), "queued|NULL|1");
  EXPECT_EQ(Row(2), "queued|NULL|1");
  EXPECT_EQ(Row(3), "leased|c|0");
  EXPECT_EQ(Row(4), "queued|NULL|1");
  EXPECT_EQ(Row(5), "leased|e|0");
  EXPECT_EQ(Row(6), "leased|f|0");
  EXPECT_EQ(Row(7), "leased|g|0");
}

TEST_F(LeaseRequeueTest, IdentifiersAreQuotedAndValuesBound) {
  ExecSql(path_,
          "CREATE TABLE \"job queue\"(\"state\"\"x\" TEXT, \"ends-at\" INTEGER,"
          " \"select\" TEXT, \"try count\" INTEGER);"
          "INSERT INTO \"job queue\" VALUES('it''s leased', 5, 'w', 0);"
          "INSERT INTO \"job queue\" VALUES('queued', 5, 'w', 0);");
  rule_.table = "job queue";
  rule_.status_column = "state\"x";
  rule_.expires_column = "ends-at";
  rule_.owner_column = "select";
  rule_.attempts_column = "try count";
  rule_.leased_value = "it's leased";
  rule_.queued_value = "queued'); DROP TABLE tasks; --";
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(test::Details(*r)["requeued"], 1);
  EXPECT_EQ(QueryInt(path_,
                     "SELECT count(*) FROM \"job queue\" WHERE \"state\"\"x\" = "
                     "'queued''); DROP TABLE tasks; --' AND \"select\" IS NULL AND "
                     "\"try count\" = 1"),
            1);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM tasks"), 0);  // still there
}

TEST_F(LeaseRequeueTest, OptionalColumnsMayBeAbsent) {
  rule_.owner_column = "";
  rule_.attempts_column = "";
  ExecSql(path_, "INSERT INTO tasks VALUES(1, 'leased', 5, 'w', 7)");
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(Row(1), "queued|w|7");
}

TEST_F(LeaseRequeueTest, StopsBeforeTheNextBatch) {
  rule_.batch = 1;
  ExecSql(path_, "INSERT INTO tasks VALUES(1, 'leased', 5, 'w', 0), (2, 'leased', 5, 'w', 0)");
  ResolvedDatabase db = test::QueueDb(path_);
  db.lease_requeue = {rule_};
  StopToken stop;
  stop.RequestStop();
  auto r = test::RunJob(*MakeLeaseRequeueJob(db, 0), db, clock_, &stop);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(test::Details(*r)["batches"], 0);
  EXPECT_EQ(test::Details(*r)["stopped"], true);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM tasks WHERE status = 'leased'"), 2);
}

TEST_F(LeaseRequeueTest, SchemaChangedSinceConfigLoadFailsTheRun) {
  rule_.expires_column = "gone";
  auto r = Run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConfig);
  EXPECT_NE(r.status().message().find("no column 'gone'"), std::string::npos);
}

}  // namespace
}  // namespace maintd
