#pragma once
// Every maintenance job is one small unit behind this interface. The scheduler and the
// command line know jobs only through it; the runner (runner.h) opens the connection, runs
// the job on a worker thread and writes the report to the journal.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/journal/journal.h"
#include "lib/sqlite/connection.h"
#include "lib/sqlite/stop_token.h"

namespace maintd {

// Why a job runs. Vacuum rows use it for vacuum_type; the shutdown path runs jobs to
// completion within a deadline.
enum class JobTrigger { kScheduled, kOnce, kCommand, kShutdown };

struct JobContext {
  const ResolvedDatabase& db;
  Connection& conn;  // read-write connection to db.path, busy_timeout from the policy;
                     // owned by the runner, registered with `stop` for interruption
  Journal* journal;  // null when nothing may be written (database known corrupt)
  const Clock& clock;
  StopToken& stop;   // check stop_requested() between steps
  JobTrigger trigger = JobTrigger::kScheduled;
  // Hard end for this run (shutdown deadline), steady clock; nullopt = none.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

// What one run did. The runner writes `checks` to sqlite_health_checks and `metrics` to
// sqlite_performance_metrics (unless the database is corrupt).
struct JobReport {
  HealthStatus status = HealthStatus::kHealthy;  // worst of the run
  std::string summary;                           // one line for logs and the CLI
  std::vector<CheckRow> checks;
  std::vector<MetricRow> metrics;
  bool found_corruption = false;  // a check proved the database corrupt
};

class Job {
 public:
  virtual ~Job() = default;
  // The job's name as used by `once --job NAME` and in logs: checkpoint, analyze, vacuum,
  // health, integrity_check, backup, lease_requeue, retention, journal_prune.
  virtual std::string name() const = 0;
  // Destructive jobs are suspended on a database whose last integrity result is critical,
  // and are preceded by a quick_check when no recent result exists.
  virtual bool destructive() const { return false; }
  // The check_type (or "vacuum") whose newest journal row marks this job's last run.
  virtual std::string journal_key() const { return name(); }
  // Runs once. A non-ok Result is a failed run: kBusy is recorded as skipped (warning),
  // anything else as critical. Must stop early when ctx.stop.stop_requested().
  virtual Result<JobReport> Run(JobContext& ctx) = 0;
};

// Helpers for jobs building their report.
int64_t ElapsedMs(std::chrono::steady_clock::time_point since);

}  // namespace maintd
