// Lease rescue on queue schemas as real libraries write them, with real worker processes
// (tools/queue_worker.cc) and the lease_requeue job running every 100 ms:
//
//   tasks(status, owner TEXT NOT NULL, <time> INTEGER in whole seconds ROUNDED DOWN,
//         runs_left INTEGER NOT NULL)     -- a runs-left counter, decremented by each claim
//
// once with a lease end (`expires`), once with a heartbeat (`heartbeat_at` + stale_after).
// The rule: grace 1s, owner_reset_value "", attempts_direction down.
//  - FinishingInTheLastSecondIsNeverRequeued: every task completes (or renews, then
//    completes) in the last second of its lease. A millisecond comparison without grace
//    would take many of them back early (the test counts how many were at risk); none may
//    be: no "violation" (a lease taken while valid), no requeue of a completed lease, each
//    task claimed once (a second claim only after a requeue of a lease its worker let lapse).
//  - KilledWorkersAreRequeuedOnceAfterExpiryPlusGrace: live workers renew and are left
//    alone; after SIGKILL each lease is requeued exactly once, only after expiry + grace,
//    owner reset to '', one run fewer; the one on its last run goes to dead instead.
#include <gtest/gtest.h>
#include <signal.h>

#include <iostream>
#include <map>
#include <set>

#include "lib/jobs/lease_requeue.h"
#include "lib/sqlite/statement.h"
#include "tests/queue/queue_test_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::ExecSql;
using test::QueryInt;
using test::WorkerEvent;

constexpr int kLeaseMs = 1500;
constexpr int kRuns = 3;

using Requeue = test::AuditedMove;

class LeaseRescueTest : public ::testing::TestWithParam<bool> {
 protected:
  bool heartbeat() const { return GetParam(); }
  std::string time_column() const { return heartbeat() ? "heartbeat_at" : "expires"; }

  void SetUp() override {
    path_ = dir_.File("queue.db");
    std::string t = time_column();
    ExecSql(path_,
            "PRAGMA journal_mode=WAL;"
            "CREATE TABLE tasks(id INTEGER PRIMARY KEY, status TEXT NOT NULL DEFAULT 'queued',"
            " owner TEXT NOT NULL DEFAULT '', " + t + " INTEGER,"
            " runs_left INTEGER NOT NULL DEFAULT " + std::to_string(kRuns) + ");"
            "CREATE INDEX tasks_status ON tasks(status, " + t + ");"
            "CREATE TABLE requeue_log(task, old_owner, old_time, new_status, runs_before,"
            " runs_after, new_owner, at_ms);"
            "CREATE TRIGGER audit AFTER UPDATE OF status ON tasks"
            " WHEN old.status = 'leased' AND new.status IN ('queued', 'dead') BEGIN"
            " INSERT INTO requeue_log VALUES (old.id, old.owner, old." + t + ", new.status,"
            " old.runs_left, new.runs_left, new.owner,"
            " CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)); END;");
    db_ = test::QueueDb(path_);
    LeaseRequeueRule rule;
    rule.table = "tasks";
    if (heartbeat()) {
      rule.expires_column = "";
      rule.heartbeat_column = t;
      rule.stale_after = Millis(kLeaseMs);
    } else {
      rule.expires_column = t;
    }
    rule.time_format = TimeFormat::kUnix;
    rule.grace = 1s;
    rule.owner_column = "owner";
    rule.owner_reset_value.kind = SqlValue::Kind::kText;  // ""
    rule.attempts_column = "runs_left";
    rule.attempts_direction = AttemptsDirection::kDown;
    db_.lease_requeue = {rule};
  }
  void AddTasks(int n) {
    ExecSql(path_, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < " +
                       std::to_string(n) + ") INSERT INTO tasks(status) SELECT 'queued' FROM n");
  }
  std::unique_ptr<test::ChildProcess> StartWorker(int id, std::vector<std::string> extra) {
    std::vector<std::string> argv = {test::QueueWorkerBinary(), path_, "--id", std::to_string(id),
                                     "--log", Log(id), "--lease-ms", std::to_string(kLeaseMs),
                                     "--time-column", time_column(), "--counter-column",
                                     "runs_left", "--time-unit", "s", "--heartbeat",
                                     heartbeat() ? "1" : "0", "--runs-left", "1", "--seed",
                                     std::to_string(id + 7)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<test::ChildProcess>(argv, std::map<std::string, std::string>{},
                                                dir_.path());
  }
  std::string Log(int id) const { return dir_.File("worker-" + std::to_string(id) + ".log"); }
  // When the rule counts a lease stored as `stored` (seconds) as expired: strictly after.
  int64_t ExpiredAfterMs(int64_t stored) const {
    return stored * 1000 + (heartbeat() ? kLeaseMs : 0) + 1000;
  }
  std::vector<Requeue> Requeues() { return test::ReadAuditLog(path_); }

  test::TempDir dir_;
  std::string path_;
  ResolvedDatabase db_;
};

TEST_P(LeaseRescueTest, FinishingInTheLastSecondIsNeverRequeued) {
  constexpr int kWorkers = 4, kTasks = 32;
  AddTasks(kTasks);
  std::vector<std::unique_ptr<test::ChildProcess>> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.push_back(StartWorker(i, {"--crash-pct", "0", "--renew-pct", "25",
                                      "--finish-last-ms", "1000"}));
  }
  test::RequeueLoop requeuer(db_, MakeLeaseRequeueJob(db_, 0));
  bool finished = test::WaitFor(
      [&] {
        return test::SilentQueryInt(path_, "SELECT count(*) FROM tasks WHERE status IN "
                                           "('queued', 'leased')") == 0;
      },
      std::chrono::seconds(60));
  test::StopWorkersAndLoop(workers, requeuer);
  ASSERT_TRUE(finished) << "tasks left after 60 s";

  // The workers' view: leases by token, the exact end each last set, how each ended.
  std::map<std::string, WorkerEvent> claim_of;
  std::map<std::string, int64_t> end_ms;
  std::set<std::string> completed, late;
  std::map<int64_t, int> claims;
  int violations = 0, at_risk = 0;
  for (int i = 0; i < kWorkers; ++i) {
    for (const WorkerEvent& e : test::ReadWorkerLog(Log(i))) {
      if (e.kind == "claim" || e.kind == "renew") {
        if (e.kind == "claim") {
          claim_of[e.token] = e;
          ++claims[e.task];
        }
        end_ms[e.token] = e.expires_ms;
      } else if (e.kind == "complete") {
        completed.insert(e.token);
        // What the worker stored (whole seconds, rounded down) and when a plain millisecond
        // comparison (no grace) would have called the lease expired.
        int64_t begin_ms = end_ms[e.token] - (heartbeat() ? kLeaseMs : 0);
        int64_t naive_ms = begin_ms / 1000 * 1000 + (heartbeat() ? kLeaseMs : 0);
        if (e.t_us / 1000 > naive_ms) ++at_risk;
      } else if (e.kind == "late" || e.kind == "lost") {
        late.insert(e.token);  // the machine stalled the worker past its own lease
      } else if (e.kind == "violation") {
        ++violations;
        ADD_FAILURE() << "task " << e.task << ": lease " << e.token << " taken while valid";
      }
    }
  }
  EXPECT_EQ(violations, 0);
  int double_runs = 0;
  std::map<int64_t, int> requeues;
  for (const Requeue& r : Requeues()) {
    ++requeues[r.task];
    ASSERT_EQ(claim_of.count(r.old_owner), 1u) << r.old_owner;
    if (completed.count(r.old_owner) != 0 || late.count(r.old_owner) == 0) ++double_runs;
    EXPECT_GE(r.at_ms, end_ms[r.old_owner]) << "requeued before the worker's own lease ended";
    EXPECT_GE(r.at_ms, ExpiredAfterMs(r.old_time)) << "requeued before expiry + grace";
    EXPECT_EQ(r.new_status, "queued");
    EXPECT_EQ(r.new_owner, "");
    EXPECT_EQ(r.counter_after, r.counter_before - 1);
  }
  EXPECT_EQ(double_runs, 0);
  // Every task done, claimed once (again only after a lapsed lease was requeued), and its
  // counter down by one per claim and one per requeue.
  auto conn = Connection::Open(path_);
  ASSERT_TRUE(conn.ok());
  auto st = conn->Prepare("SELECT id, status, runs_left, typeof(" + time_column() + "), " +
                          time_column() + " FROM tasks ORDER BY id");
  ASSERT_TRUE(st.ok());
  while (*st->Step()) {
    int64_t task = st->Int(0);
    EXPECT_EQ(st->Text(1), "done") << task;
    EXPECT_EQ(claims[task], 1 + requeues[task]) << "task " << task;
    EXPECT_EQ(st->Int(2), kRuns - claims[task] - requeues[task]) << "task " << task;
    EXPECT_EQ(st->Text(3), "integer");  // whole seconds, as the worker stored them
  }
  EXPECT_EQ(completed.size(), static_cast<size_t>(kTasks));
  // Not vacuous: many completions came after the moment a comparison without grace (or a
  // millisecond reading of the rounded-down value) would have taken the lease back.
  EXPECT_GE(at_risk, 5);
  std::cout << "completions " << completed.size() << ", at risk without grace " << at_risk
            << ", late " << late.size() << ", requeued " << requeuer.requeued() << ", job runs "
            << requeuer.runs() << "\n";
}

TEST_P(LeaseRescueTest, KilledWorkersAreRequeuedOnceAfterExpiryPlusGrace) {
  constexpr int kWorkers = 3;
  AddTasks(kWorkers + 1);
  ExecSql(path_, "UPDATE tasks SET runs_left = 1 WHERE id = 1");  // its last run
  test::RequeueLoop requeuer(db_, MakeLeaseRequeueJob(db_, 0));
  std::vector<std::unique_ptr<test::ChildProcess>> workers;
  for (int i = 0; i < kWorkers; ++i) workers.push_back(StartWorker(i, {"--hold", "1"}));
  ASSERT_TRUE(test::WaitFor(
      [&] { return QueryInt(path_, "SELECT count(*) FROM tasks WHERE status = 'leased'") ==
                   kWorkers; },
      std::chrono::seconds(20)));
  // Alive and renewing every third of a lease, for longer than a lease plus the grace
  // (8 renewals each): left alone.
  auto renewals = [&](int id) {
    int n = 0;
    for (const WorkerEvent& e : test::ReadWorkerLog(Log(id))) n += e.kind == "renew";
    return n;
  };
  ASSERT_TRUE(test::WaitFor(
      [&] {
        for (int i = 0; i < kWorkers; ++i) {
          if (renewals(i) < 8) return false;
        }
        return true;
      },
      std::chrono::seconds(30)));
  EXPECT_TRUE(requeuer.WaitForRuns(3, std::chrono::seconds(20)));
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM requeue_log"), 0);
  for (auto& w : workers) EXPECT_TRUE(w->Running());

  int64_t killed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (auto& w : workers) w->Signal(SIGKILL);
  for (auto& w : workers) EXPECT_EQ(w->Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  ASSERT_TRUE(test::WaitFor(
      [&] { return test::SilentQueryInt(path_, "SELECT count(*) FROM requeue_log") >= kWorkers; },
      std::chrono::seconds(20)));
  // Several more runs change nothing: each lease was requeued once.
  EXPECT_TRUE(requeuer.WaitForRuns(5, std::chrono::seconds(20)));
  requeuer.Stop();
  EXPECT_TRUE(requeuer.errors().empty()) << requeuer.errors().front();

  std::set<std::string> tokens;
  for (const Requeue& r : Requeues()) {
    EXPECT_TRUE(tokens.insert(r.old_owner).second) << "requeued twice: " << r.old_owner;
    EXPECT_GE(r.at_ms, ExpiredAfterMs(r.old_time)) << "requeued before expiry + grace";
    EXPECT_GT(r.at_ms, killed_ms);
    if (r.task == 1) {  // claimed with 1 run left, so 0 now: dead, owner and counter kept
      EXPECT_EQ(r.new_status, "dead");
      EXPECT_EQ(r.counter_before, 0);
      EXPECT_EQ(r.counter_after, 0);
      EXPECT_EQ(r.new_owner, r.old_owner);
    } else {
      EXPECT_EQ(r.new_status, "queued");
      EXPECT_EQ(r.counter_before, kRuns - 1);
      EXPECT_EQ(r.counter_after, kRuns - 2);
      EXPECT_EQ(r.new_owner, "");
    }
  }
  EXPECT_EQ(tokens.size(), static_cast<size_t>(kWorkers));
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM tasks WHERE status = 'dead'"), 1);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM tasks WHERE status = 'queued'"), kWorkers);
  EXPECT_EQ(requeuer.requeued(), kWorkers - 1);
  EXPECT_EQ(requeuer.dead(), 1);
}

INSTANTIATE_TEST_SUITE_P(Schemas, LeaseRescueTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Heartbeat" : "Expiry"; });

}  // namespace
}  // namespace maintd
