#include "lib/jobs/shutdown.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "lib/inspect/db_stats.h"
#include "lib/jobs/analyze.h"
#include "lib/jobs/vacuum.h"
#include "lib/vacuum/busy_timeout_cap.h"
#include "lib/wal/checkpoint.h"

namespace maintd {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How long a journal write may wait for the write lock during the shutdown.
constexpr Millis kShutdownJournalWait{250};

// Calls stop.Abort() at `deadline` unless destroyed first. The destructor joins.
class DeadlineTimer {
 public:
  DeadlineTimer(SteadyClock::time_point deadline, StopToken& stop)
      : thread_([this, deadline, &stop] {
          std::unique_lock lock(mu_);
          if (cv_.wait_until(lock, deadline, [this] { return done_; })) return;
          lock.unlock();
          spdlog::warn("shutdown deadline reached: interrupting maintenance in flight");
          stop.Abort();
        }) {}
  ~DeadlineTimer() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts after the members it uses exist
};

bool TimeLeft(SteadyClock::time_point deadline, const StopToken& stop) {
  return !stop.aborted() && SteadyClock::now() < deadline;
}

void Record(Journal* journal, const std::string& db, JobReport& report) {
  if (journal == nullptr) return;
  for (CheckRow& row : report.checks) row.details["trigger"] = "shutdown";
  Status s = journal->RecordChecks(report.checks);
  if (s.ok()) s = journal->RecordMetrics(report.metrics);
  if (!s.ok()) spdlog::warn("db={} shutdown journal write failed: {}", db, s.ToString());
}

void ShutdownAnalyze(Connection& conn, Journal* journal, const ResolvedDatabase& db) {
  int64_t limit = db.policy.analyze.analysis_limit > 0 ? db.policy.analyze.analysis_limit : 1000;
  auto start = SteadyClock::now();
  auto r = RunAnalyze(conn, AnalyzeMode::kLimited, limit);
  JobReport report;
  if (r.ok()) {
    report = std::move(r).value();
    spdlog::info("db={} shutdown analyze: {}", db.name, report.summary);
  } else {
    HealthStatus status = r.status().busy() ? HealthStatus::kWarning : HealthStatus::kCritical;
    if (r.status().code() == StatusCode::kInterrupted) status = HealthStatus::kWarning;
    report.checks.push_back(
        {"analyze", status, {{"error", r.status().message()}, {"duration_ms", ElapsedMs(start)}}});
    spdlog::warn("db={} shutdown analyze: {}", db.name, r.status().ToString());
  }
  Record(journal, db.name, report);
}

void ShutdownCheckpoint(Connection& conn, Journal* journal, const ResolvedDatabase& db,
                        CheckpointMode mode) {
  auto stats = ReadDbStats(conn);
  if (!stats.ok()) {
    spdlog::warn("db={} shutdown checkpoint: {}", db.name, stats.status().ToString());
    return;
  }
  if (stats->journal_mode != "wal" || stats->litestream) {
    spdlog::info("db={} shutdown checkpoint skipped: {}", db.name,
                 stats->litestream ? "litestream" : "not in WAL mode");
    return;
  }
  Millis wait = std::min(conn.busy_timeout(), kCheckpointShortWait);
  auto r = RunCheckpoint(conn, mode, wait);
  JobReport report;
  if (r.ok()) {
    HealthStatus status = r->busy ? HealthStatus::kWarning : HealthStatus::kHealthy;
    report.checks.push_back({"checkpoint", status, CheckpointDetails(*r)});
    report.metrics.push_back({"checkpoint.duration_ms", double(r->duration_ms), "ms"});
    spdlog::info("db={} shutdown checkpoint {}: {}/{} frames{}", db.name, ToString(mode),
                 r->checkpointed_frames, r->log_frames, r->busy ? " (busy)" : "");
  } else {
    report.checks.push_back({"checkpoint",
                             HealthStatus::kWarning,
                             {{"error", r.status().message()}, {"mode", ToString(mode)}}});
    spdlog::warn("db={} shutdown checkpoint: {}", db.name, r.status().ToString());
  }
  Record(journal, db.name, report);
}

void ShutdownOne(MaintainedDatabase& mdb, const ShutdownConfig& cfg, SteadyClock::time_point end,
                 SteadyClock::time_point deadline, StopToken& stop) {
  const ResolvedDatabase db = mdb.db();
  auto now = SteadyClock::now();
  auto reserve = std::min<SteadyClock::duration>((end - now) / 5, std::chrono::seconds(1));
  if (cfg.vacuum != ShutdownVacuum::kNone) {
    auto job = MakeShutdownVacuumJob(db, cfg.vacuum);
    (void)mdb.Run(*job, JobTrigger::kShutdown, stop, end - reserve);  // logs its outcome
  }
  bool analyze = cfg.analyze;
  bool checkpoint = cfg.checkpoint != CheckpointMode::kNone;
  if ((!analyze && !checkpoint) || !TimeLeft(deadline, stop) || mdb.known_corrupt()) return;
  auto conn = mdb.OpenConnection();
  if (!conn.ok()) {
    spdlog::warn("db={} shutdown: {}", db.name, conn.status().ToString());
    return;
  }
  ScopedInterruptible interruptible(stop, *conn);
  BusyTimeoutCap cap(*conn, deadline);  // lock waits end at the deadline
  auto journal = mdb.OpenJournal();
  if (journal) journal->LimitWriteWait(kShutdownJournalWait, Millis(0));
  if (analyze && TimeLeft(deadline, stop)) ShutdownAnalyze(*conn, journal.get(), db);
  if (checkpoint && TimeLeft(deadline, stop)) {
    ShutdownCheckpoint(*conn, journal.get(), db, cfg.checkpoint);
  }
}

}  // namespace

void RunShutdownMaintenance(const std::vector<MaintainedDatabase*>& dbs, const ShutdownConfig& cfg,
                            SteadyClock::time_point deadline, StopToken& stop) {
  DeadlineTimer timer(deadline, stop);
  for (size_t i = 0; i < dbs.size(); ++i) {
    MaintainedDatabase* mdb = dbs[i];
    if (mdb == nullptr) continue;
    if (!TimeLeft(deadline, stop)) {
      spdlog::warn("db={} shutdown maintenance skipped: {}", mdb->path(),
                   stop.aborted() ? "aborted" : "deadline reached");
      continue;
    }
    if (mdb->known_corrupt()) {
      spdlog::warn("db={} shutdown maintenance skipped: database known corrupt", mdb->path());
      continue;
    }
    auto now = SteadyClock::now();
    auto share_end = now + (deadline - now) / static_cast<int64_t>(dbs.size() - i);
    ShutdownOne(*mdb, cfg, share_end, deadline, stop);
  }
}

}  // namespace maintd
