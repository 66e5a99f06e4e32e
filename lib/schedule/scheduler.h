#pragma once
// The scheduler's Asio side: runs the Planner's decisions (planner.h) on one io_context.
//
// Threads: every public member is called on the loop thread (the thread running `loop`), or
// before the loop runs. Work and LastRunLookup run on worker threads, never on the loop
// thread: Work on a pool of max_concurrent_jobs threads, lookups on one extra thread so
// that seeding a thousand databases never delays a job or the loop. Completions are posted
// back to the loop, which alone touches the Planner.
//
// Time: due times come from the Clock (wall clock, for daily_at); one steady_timer is armed
// to the Planner's next wakeup and never sleeps longer than a minute, so wall-clock jumps
// and DST changes are picked up within a minute.
//
// Lifetime: the io_context must outlive the Scheduler; destroy the Scheduler on the loop
// thread or after the loop has stopped. Handlers still queued on the loop when it is
// destroyed do nothing.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/core/asio.h"
#include "lib/core/clock.h"
#include "lib/jobs/job.h"
#include "lib/jobs/registry.h"
#include "lib/schedule/planner.h"

namespace maintd {

class Scheduler {
 public:
  // Runs one job on a worker thread and returns when it has finished (its outcome is the
  // Work's business: journal, logs, metrics). Called concurrently for different databases,
  // never for two jobs of one database at once. Exceptions are caught and logged.
  using Work = std::function<void(const ResolvedDatabase& db, Job& job)>;
  // Last run of a job from the journal (nullopt if none or unknown), on the lookup thread;
  // may run while a job of the same database runs on a worker. Exceptions are caught,
  // logged and taken as nullopt.
  using LastRunLookup =
      std::function<std::optional<SystemTime>(const ResolvedDatabase& db, const Job& job)>;
  // Called on the loop thread when a job starts (started = true) or finishes. `job` is the
  // job's name().
  using JobEvent = std::function<void(const std::string& db, const std::string& job, bool started)>;
  // The jobs of a database; JobsFor() (registry.h) unless a test injects its own.
  using JobsSource = std::function<std::vector<ScheduledJob>(const ResolvedDatabase& db)>;

  Scheduler(asio::io_context& loop, const Clock& clock, int max_concurrent_jobs, Work work,
            LastRunLookup last_run, Millis max_start_jitter = std::chrono::seconds(30));
  // Cancels the timer, skips lookups not yet started, and joins the worker threads: blocks
  // until running Work returns (call Stop() and let it go idle first).
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Replaces the maintained databases (config reload, glob rescan), each with the entries of
  // the JobsSource. Unchanged entries keep their due times; new ones are seeded from
  // LastRunLookup on the lookup thread, then become due. A job running on a database that
  // was removed finishes; nothing else starts there. The settings are shared, not copied:
  // the daemon passes the ones its MaintainedDatabases hold (one per database). None null.
  void SetDatabases(std::vector<std::shared_ptr<const ResolvedDatabase>> dbs);
  void SetDatabases(std::vector<ResolvedDatabase> dbs);
  // Starts (or resumes after Stop()) dispatching due jobs.
  void Start();
  // Stops dispatching new jobs; `on_idle` is posted to the loop once no job is running (at
  // once if none). Running jobs are not interrupted here: the Work's own stop token does
  // that. Several Stop() calls before idle each get their callback.
  void Stop(std::function<void()> on_idle);
  // Re-reads the clock and re-arms the timer now (e.g. after a known clock change).
  void Poke();

  size_t running_jobs() const;
  void OnJobEvent(JobEvent cb) { on_job_event_ = std::move(cb); }
  void SetJobsSource(JobsSource source) { jobs_source_ = std::move(source); }
  // The planner, for status output and tests (loop thread only).
  const Planner& planner() const { return planner_; }

 private:
  // Starts whatever is due and re-arms the timer.
  void Pump();
  void Arm();
  void OnFinished(const Dispatch& d);
  // Posts the Stop() callbacks once no job runs.
  void PostIdleCallbacksIfIdle();
  void RequestSeeds(std::vector<SeedRequest> seeds);

  asio::io_context& loop_;
  const Clock& clock_;
  Work work_;
  LastRunLookup last_run_;
  JobsSource jobs_source_;
  JobEvent on_job_event_;
  Planner planner_;
  asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  std::vector<std::function<void()>> idle_callbacks_;
  // False once the destructor ran; checked by every handler posted to the loop.
  std::shared_ptr<std::atomic<bool>> alive_;
  // Read by the lookup thread: skip lookups once the destructor runs.
  std::atomic<bool> shutting_down_{false};
  asio::thread_pool workers_;
  asio::thread_pool lookups_;
};

}  // namespace maintd
