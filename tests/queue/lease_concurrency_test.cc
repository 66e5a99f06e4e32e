// Several real worker processes (tools/queue_worker.cc) claim, renew, complete and abandon
// leases while the lease_requeue job runs every 100 ms. Afterwards, from the workers' logs
// and an audit trigger that records every transition the job makes:
//  - no lease was taken from a worker while it was valid (no "violation"; every requeued
//    lease had expired, and with exactly the expiry its holder last set);
//  - no task was held by two workers at once: each claim starts after the previous lease of
//    that task has expired, and only after the job requeued that very lease; no lease was
//    requeued twice; a completed task is never claimed again;
//  - attempts: workers add 1 per claim and the job 1 per requeue, so every task's attempts
//    equals its claims (worker logs) plus its requeues (audit), exactly;
//  - dead-lettering exactly at max_attempts: every expired lease with attempts < 3 was
//    requeued (+1), every one with attempts >= 3 went to dead (attempts unchanged).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "lib/jobs/lease_requeue.h"
#include "lib/sqlite/statement.h"
#include "tests/queue/queue_test_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::ExecSql;
using test::QueryInt;

constexpr int kWorkers = 4;
constexpr int kTasks = 150;
constexpr int kMaxAttempts = 3;

using Event = test::WorkerEvent;

TEST(LeaseConcurrencyTest, WorkersAndRequeueNeverShareALease) {
  test::TempDir dir;
  std::string path = dir.File("queue.db");
  ExecSql(path,
          "PRAGMA journal_mode=WAL;"
          "CREATE TABLE tasks(id INTEGER PRIMARY KEY, status TEXT NOT NULL, owner TEXT,"
          " expires INTEGER, attempts INTEGER NOT NULL DEFAULT 0);"
          "CREATE INDEX tasks_status ON tasks(status, expires);"
          "CREATE TABLE requeue_log(task, old_owner, old_expires, new_status, attempts_before,"
          " attempts_after, new_owner, at_ms);"
          // Every transition out of 'leased' other than a worker's completion is the job's.
          "CREATE TRIGGER audit AFTER UPDATE OF status ON tasks"
          " WHEN old.status = 'leased' AND new.status IN ('queued', 'dead') BEGIN"
          " INSERT INTO requeue_log VALUES (old.id, old.owner, old.expires, new.status,"
          " old.attempts, new.attempts, new.owner,"
          " CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)); END;"
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < " +
              std::to_string(kTasks) +
              ") INSERT INTO tasks(id, status) SELECT i, 'queued' FROM n;");

  ResolvedDatabase db = test::QueueDb(path);
  LeaseRequeueRule rule;
  rule.table = "tasks";
  rule.expires_column = "expires";
  rule.time_format = TimeFormat::kUnixMs;
  rule.owner_column = "owner";
  rule.attempts_column = "attempts";
  rule.max_attempts = kMaxAttempts;
  rule.batch = 3;  // several batches per run now and then
  rule.grace = Millis(0);  // exact millisecond expiries: the grace is lease_rescue_test's
  db.lease_requeue = {rule};

  std::string worker_bin = test::QueueWorkerBinary();
  std::vector<std::unique_ptr<test::ChildProcess>> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.push_back(std::make_unique<test::ChildProcess>(
        std::vector<std::string>{worker_bin, path, "--id", std::to_string(i), "--log",
                                 dir.File("worker-" + std::to_string(i) + ".log"), "--lease-ms",
                                 "250", "--work-ms", "40", "--crash-pct", "35", "--renew-pct", "35",
                                 "--seed", std::to_string(i + 1)},
        std::map<std::string, std::string>{}, dir.path()));
  }

  // The job every 100 ms, on its own thread, each run on a fresh connection as the runner does.
  test::RequeueLoop requeuer(db, MakeLeaseRequeueJob(db, 0));

  // Let them run until enough of everything has happened (or 40 s).
  bool enough = test::WaitFor(
      [&] {
        return QueryInt(path, "SELECT count(*) FROM tasks WHERE status = 'dead'") >= 8 &&
               QueryInt(path, "SELECT count(*) FROM requeue_log WHERE new_status = 'queued'") >=
                   40 &&
               QueryInt(path, "SELECT count(*) FROM tasks WHERE status = 'done'") >= 40;
      },
      std::chrono::seconds(40));
  test::StopWorkersAndLoop(workers, requeuer);
  EXPECT_TRUE(enough) << "too little happened in 40 s";
  EXPECT_GT(requeuer.runs(), 10);

  // Leases by token, from the workers' logs.
  std::map<std::string, Event> claim_of;
  std::map<std::string, int64_t> last_expiry;  // the expiry the holder last set
  std::set<std::string> completed;
  std::map<int64_t, std::vector<Event>> claims_by_task;
  int violations = 0, renews = 0, abandons = 0;
  for (int i = 0; i < kWorkers; ++i) {
    for (const Event& e : test::ReadWorkerLog(dir.File("worker-" + std::to_string(i) + ".log"))) {
      if (e.kind == "claim") {
        EXPECT_EQ(claim_of.count(e.token), 0u);
        claim_of[e.token] = e;
        last_expiry[e.token] = e.expires_ms;
        claims_by_task[e.task].push_back(e);
      } else if (e.kind == "renew") {
        last_expiry[e.token] = e.expires_ms;
        ++renews;
      } else if (e.kind == "complete") {
        completed.insert(e.token);
      } else if (e.kind == "violation") {
        ++violations;
        ADD_FAILURE() << "a valid lease was taken from its worker: task " << e.task << " "
                      << e.token;
      } else if (e.kind == "abandon") {
        ++abandons;
      }
    }
  }
  EXPECT_EQ(violations, 0);

  // Transitions made by the job.
  std::map<std::string, test::AuditedMove> requeue_of;  // by lease token
  std::map<int64_t, int64_t> requeues_by_task;
  int64_t queued = 0, dead = 0;
  for (const test::AuditedMove& t : test::ReadAuditLog(path)) {
    ASSERT_EQ(claim_of.count(t.old_owner), 1u) << "requeued a lease nobody took: " << t.old_owner;
    EXPECT_EQ(requeue_of.count(t.old_owner), 0u) << "lease requeued twice: " << t.old_owner;
    requeue_of[t.old_owner] = t;
    EXPECT_EQ(completed.count(t.old_owner), 0u) << "requeued a completed lease " << t.old_owner;
    EXPECT_LT(t.old_time, t.at_ms) << "requeued a lease before it expired";
    EXPECT_EQ(t.old_time, last_expiry[t.old_owner]) << "requeued a lease whose renewal it "
                                                          "did not see: "
                                                       << t.old_owner;
    if (t.new_status == "queued") {
      ++queued;
      ++requeues_by_task[t.task];
      EXPECT_LT(t.counter_before, kMaxAttempts);
      EXPECT_EQ(t.counter_after, t.counter_before + 1);
      EXPECT_EQ(t.new_owner, "");
    } else {
      ASSERT_EQ(t.new_status, "dead");
      ++dead;
      EXPECT_GE(t.counter_before, kMaxAttempts) << "dead-lettered below max_attempts";
      EXPECT_EQ(t.counter_after, t.counter_before);
      EXPECT_EQ(t.new_owner, t.old_owner);
    }
  }
  EXPECT_EQ(queued, requeuer.requeued());
  EXPECT_EQ(dead, requeuer.dead());

  // Per task: leases never overlap, each follows the requeue of the one before.
  for (auto& [task, claims] : claims_by_task) {
    std::sort(claims.begin(), claims.end(),
              [](const Event& a, const Event& b) { return a.t_us < b.t_us; });
    for (size_t i = 1; i < claims.size(); ++i) {
      const Event& prev = claims[i - 1];
      const Event& next = claims[i];
      EXPECT_EQ(completed.count(prev.token), 0u) << "task " << task << " claimed after done";
      EXPECT_GT(next.t_us, last_expiry[prev.token] * 1000)
          << "task " << task << ": " << next.token << " claimed while " << prev.token
          << " still held it";
      ASSERT_EQ(requeue_of.count(prev.token), 1u) << "no requeue of " << prev.token;
      EXPECT_EQ(requeue_of[prev.token].new_status, "queued");
    }
  }

  // attempts = claims + requeues, exactly; final statuses agree with the logs.
  auto conn = Connection::Open(path);
  ASSERT_TRUE(conn.ok());
  auto st = conn->Prepare("SELECT id, status, attempts FROM tasks ORDER BY id");
  ASSERT_TRUE(st.ok());
  int done_tasks = 0, dead_tasks = 0;
  while (*st->Step()) {
    int64_t task = st->Int(0);
    std::string status = st->Text(1);
    const auto& claims = claims_by_task[task];
    EXPECT_EQ(st->Int(2), static_cast<int64_t>(claims.size()) + requeues_by_task[task])
        << "task " << task;
    bool was_completed = !claims.empty() && completed.count(claims.back().token) == 1;
    EXPECT_EQ(status == "done", was_completed) << "task " << task;
    if (status == "dead") {
      ++dead_tasks;
      ASSERT_FALSE(claims.empty());
      ASSERT_EQ(requeue_of.count(claims.back().token), 1u);
      EXPECT_EQ(requeue_of[claims.back().token].new_status, "dead");
      EXPECT_GE(st->Int(2), kMaxAttempts);
    }
    done_tasks += status == "done";
  }
  EXPECT_EQ(dead_tasks, dead);
  EXPECT_EQ(static_cast<size_t>(done_tasks), completed.size());
  // The run exercised every path.
  EXPECT_GT(renews, 10);
  EXPECT_GT(abandons, 10);
  RecordProperty("claims", static_cast<int>(claim_of.size()));
  std::cout << "claims " << claim_of.size() << ", renews " << renews << ", completions "
            << completed.size() << ", requeued " << queued << ", dead " << dead << ", job runs "
            << requeuer.runs() << "\n";
}

}  // namespace
}  // namespace maintd
