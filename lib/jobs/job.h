#pragma once
// Every maintenance job is one small unit behind this interface. The scheduler and the
// command line know jobs only through it; the runner (MaintainedDatabase::Run, the one
// door: maintained_database.h) decides whether the job may touch the database at all,
// opens the connection, runs the job and writes the report to the journal. The list of
// jobs is the table in registry.cc.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/progress.h"
#include "lib/core/status.h"
#include "lib/inspect/file_signature.h"
#include "lib/journal/journal.h"
#include "lib/sqlite/connection.h"
#include "lib/sqlite/stop_token.h"
#include "lib/wal/pin_tracker.h"

namespace maintd {

// Why a job runs. Vacuum rows use it for vacuum_type; the shutdown path runs jobs to
// completion within a deadline.
enum class JobTrigger { kScheduled, kOnce, kCommand, kShutdown };

// How a job touches the database: decides the connection the runner gives it and what the
// integrity gate asks before the job starts.
enum class DbAccess {
  kReadOnly,  // reads only, through a read-only connection (closing it never checkpoints)
  kWrites,    // writes the database (or rows into its journal): runs only past the gate
  kReplaces,  // replaces the file as a whole (restore): no connection is open meanwhile
};

// Properties of a job the runner acts on (never `name() == "..."` elsewhere).
struct JobTraits {
  DbAccess access = DbAccess::kWrites;
  // The run checks the database's integrity itself (quick_check / integrity_check) and says
  // so in JobReport::integrity; it may run on a database whose integrity is unknown or bad.
  bool proves_integrity = false;
  // May run beside another maintainer (a one-shot `backup` while the daemon holds the
  // database): it only reads the database, and leaves rotation and cleanup to the
  // maintainer (JobContext::beside_maintainer tells it).
  bool beside_maintainer = false;
  // Scheduled runs are skipped, without opening the database, when nothing changed since
  // the job last settled (lib/jobs/change_tracker.h): the job's work depends only on the
  // database's content, plus what its ChangeProbe() reads.
  bool skips_when_unchanged = false;
  // The safety net of that skip: a settled job still runs for real when its last real run
  // is older than this (a day; longer for a daily job, whose next slot is a day away).
  Millis settled_rerun_after = std::chrono::hours(24);
  // The job's work is journal rows past a retention (journal_prune): with no run of it on
  // record, the database's oldest journal row stands in as its last run, so a first
  // contact does not prune a journal whose rows cannot be old yet, and a daemon restarted
  // every hour still prunes one interval after that row.
  bool seeded_by_oldest_journal_row = false;
};

struct JobContext {
  const ResolvedDatabase& db;
  // The runner's connection to db.path (busy_timeout from the policy, registered with
  // `stop` for interruption): read-only for DbAccess::kReadOnly jobs, read-write for
  // kWrites, null for kReplaces. Owned by the runner.
  Connection* connection;
  Journal* journal;  // null when nothing may be written (database known corrupt)
  const Clock& clock;
  StopToken& stop;   // check stop_requested() between steps
  JobTrigger trigger = JobTrigger::kScheduled;
  // Hard end for this run (shutdown deadline), steady clock; nullopt = none.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // When a quick_check run by this process (the integrity gate's) last found the database
  // sound; the health job reuses a fresh one instead of reading the whole file again.
  std::optional<SystemTime> verified_at;
  // This process does not hold the maintainer lock (JobTraits::beside_maintainer): leave
  // what the maintainer owns (old backups, leftover temp files) alone.
  bool beside_maintainer = false;
  // What the maintainer remembers of this database's WAL pins between runs (owned by
  // MaintainedDatabase; null: every probe is "seen now").
  WalPinTracker* wal_pins = nullptr;
  // Where the job reports how far it has got (lib/core/progress.h: from this thread, as
  // often as cheap; the sink throttles). The runner's sink writes the lock file's "running"
  // line and forwards to the command line; null in tests that do not care.
  ProgressSink* progress = nullptr;

  Connection& conn() const { return *connection; }
};

// What a proving job found (JobTraits::proves_integrity).
enum class IntegrityVerdict { kNotChecked, kSound, kCorrupt };

// The typed figures of one run, read by the metrics (daemon/metrics.cc) instead of digging
// in the JSON details. Counters are what this run did; gauges are set when measured.
struct JobFigures {
  int64_t pages_freed = 0;
  int64_t rows_requeued = 0;
  int64_t rows_dead = 0;
  int64_t rows_purged = 0;    // deleted by retention (not a dry run)
  int64_t rows_archived = 0;  // copied to the archive by retention (not a dry run)
  int64_t backups_deleted = 0;  // old backups removed by rotation
  std::optional<int64_t> db_bytes;
  std::optional<int64_t> freelist_count;
  std::optional<int64_t> wal_bytes;
  std::optional<double> max_lock_hold_ms;
  // WAL databases, from the wal-index (checkpoint and health runs): seconds the oldest
  // blamed reader has pinned the WAL (0: none), frames not yet copied back, seconds since
  // the log was last reset while frames waited (lib/wal/pin_tracker.h).
  std::optional<int64_t> wal_pin_age_seconds;
  std::optional<int64_t> wal_frames_not_checkpointed;
  std::optional<int64_t> wal_unreset_seconds;
};

// What one run did. The runner writes `checks` to sqlite_health_checks and `metrics` to
// sqlite_performance_metrics (unless the database is corrupt).
struct JobReport {
  HealthStatus status = HealthStatus::kHealthy;  // worst of the run
  std::string summary;                           // one line for logs and the CLI
  std::vector<CheckRow> checks;
  std::vector<MetricRow> metrics;
  JobFigures figures;
  // Set when the run found nothing to do and did not do its work: a short code for the
  // metrics' reason label (below_trigger, not_wal, litestream, ...); "" when it worked.
  std::string skip_reason;
  IntegrityVerdict integrity = IntegrityVerdict::kNotChecked;  // set by proving jobs
  // The run finished with nothing left to do (change_tracker.h): until someone else
  // writes the database, running it again would find the same. Set by jobs with
  // JobTraits::skips_when_unchanged; busy, partial, stopped runs leave it false.
  bool settled = false;
  // What the caller prints or acts on besides the summary (e.g. the backup's path, the
  // CLI figures of a checkpoint or vacuum): one "key=value" line, or "".
  std::string output;
};

// Instances: a job that keeps no state between runs reads its settings from each run's
// JobContext::db, and its Make* function may hand every database the same instance (its
// Run() then runs concurrently for different databases, so it must not touch members); a
// job with state (health and vacuum: the warnings they logged) is one instance per
// database, whose Run() the scheduler never overlaps.
class Job {
 public:
  virtual ~Job() = default;
  // The job's name as used by `once --job NAME` and in logs: checkpoint, analyze, vacuum,
  // health, integrity_check, backup, lease_requeue, retention, journal_prune.
  virtual std::string name() const = 0;
  virtual JobTraits traits() const { return {}; }
  // The check_type (or "vacuum") whose newest journal row marks this job's last run.
  virtual std::string journal_key() const { return name(); }
  // Runs once (on the runner's thread, past the integrity gate). A non-ok Result is a failed run: kBusy is recorded as skipped (warning),
  // anything else as critical. Must stop early when ctx.stop.stop_requested().
  virtual Result<JobReport> Run(JobContext& ctx) = 0;

  // For jobs that skip when unchanged (JobTraits): the statuses of the checks that move
  // with time and need no connection (free disk, backup age, ...), as one string; a skip
  // needs the same probe as at the settled run. Cheap (stat/statvfs only), any thread.
  virtual std::string ChangeProbe(const ResolvedDatabase&, const Clock&) const { return ""; }
  // For jobs that skip when unchanged: true when what the files show proves there is
  // nothing to do, whatever ran before, the first run after the start included (a
  // checkpoint with no WAL frames; a vacuum check whose current header is below the
  // trigger). Must be decided from `sig` and the policy alone: no connection, no journal.
  virtual bool NothingToDo(const ResolvedDatabase&, const FileSignature&) const { return false; }
};

// Helpers for jobs building their report.
int64_t ElapsedMs(std::chrono::steady_clock::time_point since);

}  // namespace maintd
