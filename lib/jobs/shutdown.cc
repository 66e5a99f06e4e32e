#include "lib/jobs/shutdown.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "lib/jobs/analyze.h"
#include "lib/jobs/checkpoint.h"
#include "lib/jobs/vacuum.h"

namespace maintd {
namespace {

using SteadyClock = std::chrono::steady_clock;

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

// A shutdown step with nothing to add (change_tracker.h): its job settled since the last
// change; or, for ANALYZE, whose statistics only follow changes, the database has not
// changed since the daemon first looked at it (the daily ANALYZE that never ran because
// its slot did not come yet has nothing to catch up on). Judged from `now`, the files as
// read last (MaintainedDatabase::ReadSignature); never opens the database.
bool StepDone(const MaintainedDatabase& mdb, const FileSignature& now, const std::string& step) {
  return mdb.SettledUnchanged(now, {step}) ||
         (step == "analyze" && mdb.UnchangedSinceFirstLook(now));
}

bool TimeLeft(SteadyClock::time_point deadline, const StopToken& stop) {
  return !stop.aborted() && SteadyClock::now() < deadline;
}

// `files`: the database's signature as the caller read it; read again only after a step
// ran (which may have changed what the next step finds).
void ShutdownOne(MaintainedDatabase& mdb, FileSignature files, const ShutdownConfig& cfg,
                 SteadyClock::time_point end, SteadyClock::time_point deadline, StopToken& stop) {
  const std::shared_ptr<const ResolvedDatabase> settings = mdb.settings();
  const ResolvedDatabase& db = *settings;
  auto now = SteadyClock::now();
  auto reserve = std::min<SteadyClock::duration>((end - now) / 5, std::chrono::seconds(1));
  // Every step goes through the one door (MaintainedDatabase::Run): gated, journaled with
  // "trigger":"shutdown", logged; lock waits and journal writes end by the deadline.
  // A step whose job settled since the last change has nothing to add (change_tracker.h).
  auto settled = [&mdb, &files](const char* job) { return StepDone(mdb, files, job); };
  if (cfg.vacuum != ShutdownVacuum::kNone && !settled("vacuum")) {
    auto job = MakeShutdownVacuumJob(db, cfg.vacuum);
    (void)mdb.Run(*job, JobTrigger::kShutdown, stop, end - reserve);
    files = mdb.ReadSignature();
  }
  if (cfg.analyze && TimeLeft(deadline, stop) && !mdb.known_corrupt() && !settled("analyze")) {
    AnalyzeJobOptions options;
    options.mode = AnalyzeMode::kLimited;
    options.analysis_limit =
        db.policy.analyze.analysis_limit > 0 ? db.policy.analyze.analysis_limit : 1000;
    auto job = MakeAnalyzeJob(db, options);
    (void)mdb.Run(*job, JobTrigger::kShutdown, stop, deadline);
    files = mdb.ReadSignature();
  }
  if (cfg.checkpoint != CheckpointMode::kNone && TimeLeft(deadline, stop) && !mdb.known_corrupt() &&
      !settled("checkpoint")) {
    CheckpointJobOptions options;
    options.mode = cfg.checkpoint;  // truncate waits at most kCheckpointShortWait
    auto job = MakeCheckpointJob(db, options);
    (void)mdb.Run(*job, JobTrigger::kShutdown, stop, deadline);
  }
}

}  // namespace

void RunShutdownMaintenance(const std::vector<MaintainedDatabase*>& dbs, const ShutdownConfig& cfg,
                            SteadyClock::time_point deadline, StopToken& stop) {
  DeadlineTimer timer(deadline, stop);
  std::vector<std::string> steps;  // the jobs the shutdown runs, by name
  if (cfg.vacuum != ShutdownVacuum::kNone) steps.push_back("vacuum");
  if (cfg.analyze) steps.push_back("analyze");
  if (cfg.checkpoint != CheckpointMode::kNone) steps.push_back("checkpoint");
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
    // Maintained already: nothing changed since our last run on it and the steps the
    // shutdown would run each settled then (change_tracker.h).
    FileSignature files = mdb->ReadSignature();  // once for every step's question
    if (std::all_of(steps.begin(), steps.end(), [mdb, &files](const std::string& step) {
          return StepDone(*mdb, files, step);
        })) {
      spdlog::info("db={} shutdown maintenance skipped: unchanged since its last maintenance",
                   mdb->path());
      continue;
    }
    auto now = SteadyClock::now();
    auto share_end = now + (deadline - now) / static_cast<int64_t>(dbs.size() - i);
    ShutdownOne(*mdb, std::move(files), cfg, share_end, deadline, stop);
  }
}

}  // namespace maintd
