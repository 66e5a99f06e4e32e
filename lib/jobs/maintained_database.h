#pragma once
// A maintainer's hold on one database, and the one door every job goes through.
//
// Used by the daemon (one per database, for its whole life) and by every one-shot command
// that may write (`once`, `analyze`, `checkpoint`, `vacuum`, `backup`, `restore`): they
// build a Job and call Run(); none of them opens a connection itself. Run() alone decides
// whether the database may be touched (the integrity gate, integrity_gate.h), which
// connection the job gets (read-only until the gate has admitted it), and whether the
// report's rows may be written (never into a database found corrupt).
//
// Acquire() writes nothing to the database: it takes the maintainer lock and reads the
// lock file's integrity note. The journal tables are created, and orphaned `running`
// vacuum rows repaired, at the first journal write of a job the gate has admitted.
//
// Thread-safety: Run() and LastRun() may be called from worker threads, but Run() never
// concurrently for one database (the scheduler never overlaps jobs on a database;
// one-shot commands are single-threaded). LastRun() may run beside a Run() (the
// scheduler's lookup thread). mu_ guards db_ and orphans_repaired_; last_runs_mu_ guards
// last_runs_; gate_, wal_pins_ and changes_ guard themselves;
// the rest is immutable after Acquire().

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/maintainer_lock.h"
#include "lib/core/progress.h"
#include <spdlog/common.h>

#include "lib/jobs/change_tracker.h"
#include "lib/jobs/integrity_gate.h"
#include "lib/jobs/state_change_log.h"
#include "lib/jobs/job.h"
#include "lib/journal/journal.h"
#include "lib/sqlite/stop_token.h"

namespace maintd {

struct MaintainerOptions {
  JournalTarget journal;  // central_path "" = tables in the database itself
  std::string lock_dir;   // "" = beside the database
  bool create_missing = false;
  // Acquire a path that does not exist yet without creating it (restore to a new path).
  bool allow_missing = false;
  // When another process holds the maintainer lock, acquire anyway, without the lock, for
  // jobs whose traits allow it (beside_maintainer: a one-shot `backup` beside the daemon).
  // Nothing the maintainer owns is touched then: no orphan repair, no lock-file note.
  bool beside_maintainer = false;
  const Clock* clock = &RealClock::Instance();
  // How old a good integrity result may be and still admit a job (integrity_gate.h). The
  // daemon sets it above its quick_check interval, so its hourly health keeps it fresh.
  Millis recent_check = std::chrono::hours(1);
  // Called after every Run() (on the worker thread) with the outcome: metrics, status
  // lines. Must be thread-safe.
  std::function<void(const ResolvedDatabase&, const struct JobOutcome&)> on_outcome;
  // Also told every run's progress reports (the command line's progress line); may be
  // null. Called on the thread running the job; not owned; must outlive the runs.
  ProgressSink* progress = nullptr;
};

struct JobOutcome {
  std::string job;
  HealthStatus status = HealthStatus::kHealthy;
  Status error;          // non-ok when the run failed or was refused
  bool skipped = false;  // busy past busy_timeout, refused (corrupt), or Refused by the job
  // Why the run did not do its work: "busy", "corrupt", "refused" (the runner's), or the
  // job's own JobReport::skip_reason (e.g. "below_trigger"); "" when it did.
  std::string skip_reason;
  JobReport report;
  // The integrity gate's own rows of this run (its quick_check at first contact), which the
  // journal gets besides the report's; the metrics show them as health statuses.
  std::vector<CheckRow> gate_checks;
  int64_t duration_ms = 0;
};

class MaintainedDatabase {
 public:
  // Logs the rows still unwritten (the database stayed locked); writes nothing.
  ~MaintainedDatabase();
  // Takes the maintainer lock (LockHeld -> exit 75) and, when create_missing, creates a
  // missing database (WAL, auto_vacuum=incremental). Nothing else is written.
  // The daemon passes the settings and options it shares with the scheduler and with the
  // other databases (10,000 tenants of one glob share one MaintainerOptions): nothing of
  // either is copied per database. Neither may be null.
  static Result<std::unique_ptr<MaintainedDatabase>> Acquire(
      std::shared_ptr<const ResolvedDatabase> db, std::shared_ptr<const MaintainerOptions> options);
  // The same for one-shot commands: copies both.
  static Result<std::unique_ptr<MaintainedDatabase>> Acquire(const ResolvedDatabase& db,
                                                             const MaintainerOptions& options);

  // The database's current settings (they change on config reload); never null. A run
  // keeps the pointer it started with, whatever a reload does meanwhile.
  std::shared_ptr<const ResolvedDatabase> settings() const;
  // A copy of them (for callers that build jobs from a ResolvedDatabase&).
  ResolvedDatabase db() const { return *settings(); }
  // Replaces the settings (same path) after a config reload. Runs in progress keep theirs.
  void UpdateDatabase(std::shared_ptr<const ResolvedDatabase> db);
  void UpdateDatabase(ResolvedDatabase db) {
    UpdateDatabase(std::make_shared<const ResolvedDatabase>(std::move(db)));
  }
  const MaintainerOptions& options() const { return *options_; }
  const std::string& path() const { return path_; }

  // Runs `job` now on the calling thread, through the gate:
  //   - a job that does not prove integrity itself (JobTraits) runs only once the gate
  //     admits it; a database found corrupt gets a refused outcome (error kCorrupt,
  //     skipped, critical) and nothing written;
  //   - the job gets a read-only connection (kReadOnly), a read-write one (kWrites) or
  //     none (kReplaces), registered with `stop`; under `deadline` (steady clock) lock
  //     waits and journal writes end by the deadline;
  //   - the report's rows (and the gate's quick_check row) go to the journal unless the
  //     database is corrupt (then only to a central journal); rows the journal cannot take
  //     because the database is locked (a busy skip in `journal: target` mode) are kept,
  //     with their time, and written before the next run's rows; while rows are kept, or
  //     when the run itself met a locked database, the write waits at most 100 ms, so a
  //     locked database costs each run about one busy_timeout, not two;
  //   - while the job runs, the lock file's activity line says so ("running job=... since=...
  //     done=... total=...", run_progress.h; not beside another maintainer), and its
  //     progress reports reach options().progress;
  //   - the outcome is logged with db and job, and passed to on_outcome.
  // Scheduled runs of jobs that skip when unchanged (JobTraits::skips_when_unchanged) first
  // read the database's FileSignature: when nothing changed since the job settled (or the
  // files prove there is nothing to do: Job::NothingToDo, at first contact too), the run is
  // an "unchanged" skip: no gate, no connection, no journal row; logged at debug and passed to on_outcome
  // (the skip counter). Other triggers (once, commands, shutdown) always run. Every run that
  // does run records the signature after it (change_tracker.h).
  // Never throws.
  JobOutcome Run(Job& job, JobTrigger trigger, StopToken& stop,
                 std::optional<std::chrono::steady_clock::time_point> deadline = {});

  // The job's last run from the journal (read-only; nullopt when none or unreadable). The
  // scheduler asks for every job of a database in a row at start: the first call reads the
  // last runs of all jobs in one open of the journal and keeps them until the next Run()
  // (which may add rows), so 10,000 databases cost 10,000 opens, not one per job.
  // A job with JobTraits::seeded_by_oldest_journal_row and no run on record gets the
  // oldest journal row's time instead (now when the journal has no row).
  std::optional<SystemTime> LastRun(const Job& job) const;

  // Acquired without the lock, beside another maintainer (MaintainerOptions): that
  // maintainer's pid and lock file in `beside_holder()`.
  bool beside() const { return !lock_.has_value(); }
  const std::string& beside_holder() const { return beside_holder_; }

  // The database's files as they are now (a stat and one pread; never opens the database),
  // for the two questions below: a caller asking several of them reads the files once.
  FileSignature ReadSignature() const { return ReadFileSignature(path_); }
  // True when, as `now` shows, nothing changed since this maintainer's last run on the
  // database and each of `jobs` settled then (change_tracker.h): the shutdown maintenance
  // skips it.
  bool SettledUnchanged(const FileSignature& now, const std::vector<std::string>& jobs) const;
  // True when, as `now` shows, the database has not changed since this maintainer first
  // looked at it (ChangeTracker::UnchangedSinceFirstLook).
  bool UnchangedSinceFirstLook(const FileSignature& now) const;

  IntegrityState integrity() const { return gate_.state(); }
  bool known_corrupt() const { return gate_.known_corrupt(); }

 private:
  // How long a journal write may wait for the write lock under a deadline (shutdown): a row
  // left `running` is repaired at the next start.
  static constexpr Millis kDeadlineJournalWait{250};

  MaintainedDatabase(std::shared_ptr<const ResolvedDatabase> db,
                     std::shared_ptr<const MaintainerOptions> options,
                     std::optional<MaintainerLock> lock);
  Result<Connection> OpenConnection(DbAccess access) const;
  // The read-write journal; repairs orphaned rows at the first open. nullptr (logged) when
  // it cannot be opened.
  std::unique_ptr<Journal> OpenJournalForWrite();
  // The level of a run's log line (warnings per state change: conditions_); may append a
  // note to `what`.
  spdlog::level::level_enum LogLevelFor(const JobOutcome& out, std::string& what);
  void WriteRows(const std::string& job, std::unique_ptr<Journal>& journal,
                 const std::vector<CheckRow>& checks, const std::vector<MetricRow>& metrics,
                 bool under_deadline, bool run_was_busy = false);

  const std::string path_;
  const std::shared_ptr<const MaintainerOptions> options_;  // never null; shared
  // Held for the object's life (nullopt: beside another maintainer); gate_ writes its note.
  std::optional<MaintainerLock> lock_;
  std::string beside_holder_;  // the LockHeld message when acquired beside
  IntegrityGate gate_;
  StateChangeLog conditions_;  // thread-safe; which warnings were logged, per job
  mutable std::mutex mu_;
  std::shared_ptr<const ResolvedDatabase> db_;  // never null; guarded by mu_
  bool orphans_repaired_ = false;  // guarded by mu_
  // Check rows a journal write could not store (database locked), oldest first, with the
  // time each was made; written before the next rows (at most 1000, the oldest dropped).
  std::vector<TimedCheckRow> unwritten_rows_;  // guarded by mu_
  WalPinTracker wal_pins_;         // guards itself (pin_tracker.h)
  ChangeTracker changes_;          // guards itself (change_tracker.h)
  // LastRun()'s cache: the journal's last runs by journal key; nullopt = read again. Reset
  // at the end of every Run(); read again when older than a minute.
  mutable std::mutex last_runs_mu_;
  mutable std::optional<std::map<std::string, SystemTime>> last_runs_;  // guarded by last_runs_mu_
  mutable std::chrono::steady_clock::time_point last_runs_read_;        // guarded by last_runs_mu_
};

}  // namespace maintd
