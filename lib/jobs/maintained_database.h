#pragma once
// A maintainer's hold on one database: the maintainer lock, the journal target, and what
// is known about the database's integrity. Used by the daemon (one per database, for its
// whole life) and by one-shot commands (`once`, `vacuum`, `backup`, ...).
//
// Thread-safety: Run() and the other methods may be called from worker threads, but never
// concurrently for the same MaintainedDatabase (the scheduler never overlaps jobs on one
// database; one-shot commands are single-threaded).

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/maintainer_lock.h"
#include "lib/jobs/job.h"
#include "lib/journal/journal.h"
#include "lib/sqlite/stop_token.h"

namespace maintd {

struct MaintainerOptions {
  JournalTarget journal;  // central_path "" = tables in the database itself
  std::string lock_dir;   // "" = beside the database
  bool create_missing = false;
  const Clock* clock = &RealClock::Instance();
  // A quick_check younger than this counts as "recent" for gating destructive jobs.
  Millis recent_check = 1h;
  // Called after every Run() (on the worker thread) with the outcome: metrics, status
  // lines. Must be thread-safe.
  std::function<void(const ResolvedDatabase&, const struct JobOutcome&)> on_outcome;
};

struct JobOutcome {
  std::string job;
  HealthStatus status = HealthStatus::kHealthy;
  Status error;        // non-ok when the run failed or was skipped
  bool skipped = false;  // busy past busy_timeout, or suspended (corrupt), or refused
  JobReport report;
  int64_t duration_ms = 0;
};

class MaintainedDatabase {
 public:
  // Takes the maintainer lock (LockHeld -> exit 75), creates the database when
  // create_missing, opens the journal and repairs orphaned `running` rows. A database that
  // cannot be opened as SQLite (corrupt header) is still acquired, marked corrupt, and its
  // journal is not written.
  static Result<std::unique_ptr<MaintainedDatabase>> Acquire(const ResolvedDatabase& db,
                                                             const MaintainerOptions& options);

  // A copy of the database's current settings (they change on config reload).
  ResolvedDatabase db() const;
  // Replaces the settings (same path) after a config reload. Runs in progress keep theirs.
  void UpdateDatabase(ResolvedDatabase db);
  const MaintainerOptions& options() const { return options_; }
  const std::string& path() const { return path_; }

  // Opens a fresh read-write connection with the policy's busy_timeout.
  Result<Connection> OpenConnection() const;
  // Opens the journal for one run; nullptr when the database is known corrupt or the
  // journal cannot be opened (the reason is logged).
  std::unique_ptr<Journal> OpenJournal();

  // Runs `job` now on the calling thread: opens a connection registered with `stop`,
  // gates destructive jobs (EnsureSafeToWrite), runs it, writes the report's rows to the
  // journal (not when corrupt), logs the outcome with db and job. Never throws.
  JobOutcome Run(Job& job, JobTrigger trigger, StopToken& stop,
                 std::optional<std::chrono::steady_clock::time_point> deadline = {});

  // For destructive work: Corrupt when the last integrity result is critical; runs a
  // quick_check first when there is no recent result (recording it in the journal).
  Status EnsureSafeToWrite(Connection& conn);

  bool known_corrupt() const { return corrupt_; }
  // Record the outcome of an integrity check done elsewhere (e.g. a CLI `check`).
  void NoteIntegrity(bool ok, SystemTime at);

 private:
  MaintainedDatabase(ResolvedDatabase db, MaintainerOptions options, MaintainerLock lock)
      : path_(db.path), db_(std::move(db)), options_(std::move(options)), lock_(std::move(lock)) {}
  void LoadIntegrityFromJournal();

  const std::string path_;  // never changes
  mutable std::mutex mu_;    // guards db_ only
  ResolvedDatabase db_;
  MaintainerOptions options_;
  MaintainerLock lock_;
  bool corrupt_ = false;
  std::optional<SystemTime> last_good_check_;
};

}  // namespace maintd
