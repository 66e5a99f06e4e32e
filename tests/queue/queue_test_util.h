#pragma once
// Helpers for the queue job tests: build a ResolvedDatabase with rules and run one job the
// way the runner does (a fresh read-write connection registered with a stop token); run it
// in a loop beside maintd-queue-worker processes and read their logs and the audit table.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/config/config.h"
#include "lib/jobs/job.h"
#include "lib/sqlite/connection.h"
#include "lib/sqlite/statement.h"
#include "tests/support/test_util.h"

namespace maintd::test {

inline ResolvedDatabase QueueDb(const std::string& path) {
  ResolvedDatabase db;
  db.name = "q";
  db.path = path;
  return db;
}

inline Result<JobReport> RunJob(Job& job, const ResolvedDatabase& db, const Clock& clock,
                                StopToken* stop = nullptr) {
  auto conn = Connection::Open(db.path, OpenOptions{});
  if (!conn.ok()) return conn.status();
  StopToken own;
  StopToken& token = stop ? *stop : own;
  ScopedInterruptible guard(token, *conn);
  JobContext ctx{db, &*conn, nullptr, clock, token, JobTrigger::kOnce, std::nullopt};
  return job.Run(ctx);
}

// The details JSON of the job's single check row.
inline nlohmann::json Details(const JobReport& report) {
  EXPECT_EQ(report.checks.size(), 1u);
  return report.checks.empty() ? nlohmann::json::object() : report.checks[0].details;
}

// One line of a maintd-queue-worker log (tools/queue_worker.cc).
struct WorkerEvent {
  std::string kind, token;
  int64_t task = 0, t_us = 0, expires_ms = 0, attempts = 0;
};

inline std::vector<WorkerEvent> ReadWorkerLog(const std::string& path) {
  std::vector<WorkerEvent> out;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    WorkerEvent e;
    f >> e.kind >> e.task >> e.token >> e.t_us;
    if (e.kind != "complete") f >> e.expires_ms;
    if (e.kind == "claim") f >> e.attempts;
    out.push_back(e);
  }
  return out;
}

// One row of the tests' requeue_log table, which an audit trigger fills with every move of a
// row out of 'leased' other than a worker's completion:
//   requeue_log(task, old_owner, old_time, new_status, counter_before, counter_after,
//               new_owner, at_ms)
struct AuditedMove {
  int64_t task = 0;
  std::string old_owner;
  int64_t old_time = 0;
  std::string new_status;
  int64_t counter_before = 0, counter_after = 0;
  std::string new_owner;  // "" for NULL
  int64_t at_ms = 0;      // commit time (julianday('now')), Unix ms
};

inline std::vector<AuditedMove> ReadAuditLog(const std::string& path) {
  auto conn = Connection::Open(path);
  EXPECT_TRUE(conn.ok());
  std::vector<AuditedMove> out;
  auto st = conn->Prepare("SELECT * FROM requeue_log ORDER BY rowid");
  EXPECT_TRUE(st.ok());
  while (*st->Step()) {
    out.push_back({st->Int(0), st->Text(1), st->Int(2), st->Text(3), st->Int(4), st->Int(5),
                   st->IsNull(6) ? "" : st->Text(6), st->Int(7)});
  }
  return out;
}

inline std::string QueueWorkerBinary() {
  return std::filesystem::path(MaintdBinary()).parent_path().string() + "/maintd-queue-worker";
}

// Runs the job every `every` on its own thread, each run on a fresh connection as the
// runner does, with the real clock, until destroyed. Counts runs, requeued and dead rows.
class RequeueLoop {
 public:
  RequeueLoop(const ResolvedDatabase& db, std::shared_ptr<Job> job,
              std::chrono::milliseconds every = std::chrono::milliseconds(100))
      : thread_([this, db, job, every] {
          while (!stop_.load()) {
            auto next = std::chrono::steady_clock::now() + every;
            auto r = RunJob(*job, db, RealClock::Instance());
            if (!r.ok()) {
              std::lock_guard lock(mu_);
              errors_.push_back(r.status().ToString());
            } else {
              requeued_ += r->checks[0].details["requeued"].get<int64_t>();
              dead_ += r->checks[0].details["dead"].get<int64_t>();
            }
            ++runs_;
            std::this_thread::sleep_until(next);
          }
        }) {}
  ~RequeueLoop() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t runs() const { return runs_.load(); }
  int64_t requeued() const { return requeued_.load(); }
  int64_t dead() const { return dead_.load(); }
  std::vector<std::string> errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }
  // Waits until `n` more runs have finished (false on timeout).
  bool WaitForRuns(int64_t n, std::chrono::milliseconds timeout) {
    int64_t target = runs() + n;
    return WaitFor([&] { return runs() >= target; }, timeout);
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> runs_{0}, requeued_{0}, dead_{0};
  std::mutex mu_;
  std::vector<std::string> errors_;
  std::thread thread_;
};

// SIGTERM to every worker (each must exit 0), then stops the loop (no run may have failed).
inline void StopWorkersAndLoop(std::vector<std::unique_ptr<ChildProcess>>& workers,
                               RequeueLoop& loop) {
  for (auto& w : workers) w->Signal(SIGTERM);
  for (auto& w : workers) EXPECT_EQ(w->Wait(std::chrono::seconds(20)), 0) << w->Stderr();
  loop.Stop();
  auto errors = loop.errors();
  EXPECT_TRUE(errors.empty()) << errors.front();
}

}  // namespace maintd::test
