// CommandEnv::RunCommandJob: the one path of every one-shot maintainer command into the
// runner (lib/jobs/maintained_database.h). Commands only parse flags and build the job.
#include <signal.h>

#include <atomic>
#include <iostream>

#include "daemon/commands.h"
#include "lib/core/log_context.h"

namespace maintd {

namespace {

// SIGINT/SIGTERM during a one-shot command stop its job at the next safe point (a backup's
// partial copy is removed, a vacuum stops between steps); a second signal kills the
// process as usual.
std::atomic<StopToken*> g_stop{nullptr};
extern "C" void OnStopSignal(int sig) {
  if (StopToken* t = g_stop.load()) t->RequestStopFromSignal();
  ::signal(sig, SIG_DFL);
}

class StopOnSignal {
 public:
  explicit StopOnSignal(StopToken& stop) {
    g_stop.store(&stop);
    old_int_ = ::signal(SIGINT, OnStopSignal);
    old_term_ = ::signal(SIGTERM, OnStopSignal);
  }
  ~StopOnSignal() {
    ::signal(SIGINT, old_int_);
    ::signal(SIGTERM, old_term_);
    g_stop.store(nullptr);
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  sighandler_t old_int_;
  sighandler_t old_term_;
};

}  // namespace

int CommandEnv::RunCommandJob(const std::string& db_arg, const JobMaker& make,
                              const std::function<void(MaintainerOptions&)>& acquire,
                              const ResolvedDatabase* db_override) {
  auto config = LoadConfig();
  if (!config.ok()) {
    Fail(config.status());
    return exit_code;
  }
  Result<ResolvedDatabase> db =
      db_override != nullptr ? Result<ResolvedDatabase>(*db_override) : Database(*config, db_arg);
  if (!db.ok()) {
    Fail(db.status());
    return exit_code;
  }
  // Every line this command logs has db (and, once the job is made, job) fields.
  ScopedLogContext db_log_context(db->name);
  ProgressLine progress_line(progress);  // outlives `maintained`, which points to it
  MaintainerOptions options = MaintainerOptionsFor(*config, *db);
  options.progress = &progress_line;
  if (acquire) acquire(options);
  auto maintained = MaintainedDatabase::Acquire(*db, options);
  if (!maintained.ok()) {
    Fail(maintained.status());
    return exit_code;
  }
  if ((*maintained)->beside()) {
    std::cerr << "sqlite-maintd: running beside the maintainer that holds the database ("
              << (*maintained)->beside_holder() << "); rotation is left to it\n";
  }
  std::shared_ptr<Job> job = make((*maintained)->db());
  ScopedLogContext job_log_context(db->name, job->name());
  progress_line.SetLabel(job->name());
  StopToken stop;
  JobOutcome outcome;
  {
    StopOnSignal on_signal(stop);
    outcome = (*maintained)->Run(*job, JobTrigger::kCommand, stop);
  }
  progress_line.Clear();
  if (!outcome.error.ok()) {
    Fail(outcome.error);
    return exit_code;
  }
  const std::string& line = outcome.report.output.empty() ? outcome.report.summary
                                                          : outcome.report.output;
  if (!line.empty()) std::cout << line << "\n";
  return outcome.status == HealthStatus::kCritical ? 1 : 0;
}

}  // namespace maintd
