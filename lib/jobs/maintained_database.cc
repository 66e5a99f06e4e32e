#include "lib/jobs/maintained_database.h"

#include <spdlog/spdlog.h>

#include "lib/inspect/db_stats.h"
#include "lib/jobs/health_checks.h"
#include "lib/jobs/run_progress.h"
#include "lib/vacuum/busy_timeout_cap.h"

namespace maintd {

namespace {

// A run that changed the application's data (not only journal rows): the other jobs'
// work may have changed with it (change_tracker.h).
bool ChangedData(const JobFigures& f) {
  return f.rows_requeued > 0 || f.rows_dead > 0 || f.rows_purged > 0 || f.pages_freed > 0;
}


std::string FirstProblem(const JobReport& report) {
  for (const CheckRow& row : report.checks) {
    if (row.status == HealthStatus::kCritical) return FirstProblem(row);
  }
  return "";
}

}  // namespace

MaintainedDatabase::MaintainedDatabase(std::shared_ptr<const ResolvedDatabase> db,
                                       std::shared_ptr<const MaintainerOptions> options,
                                       std::optional<MaintainerLock> lock)
    : path_(db->path),
      options_(std::move(options)),
      lock_(std::move(lock)),
      gate_(IntegrityGateOptions{path_, &options_->journal, options_->clock, options_->recent_check,
                                 [this](const std::string& note) {
                                   if (!lock_) return;  // beside: the maintainer's file
                                   Status s = lock_->WriteNote(note);
                                   if (!s.ok()) {
                                     spdlog::warn("db={} integrity note not kept in {}: {}", path_,
                                                  lock_->path(), s.message());
                                   }
                                 }},
            ParseIntegrityNote(lock_ ? lock_->note_at_acquire()
                                     : MaintainerLock::ReadNote(path_, options_->lock_dir))),
      db_(std::move(db)) {}

Result<std::unique_ptr<MaintainedDatabase>> MaintainedDatabase::Acquire(
    const ResolvedDatabase& db, const MaintainerOptions& options) {
  return Acquire(std::make_shared<const ResolvedDatabase>(db),
                 std::make_shared<const MaintainerOptions>(options));
}

Result<std::unique_ptr<MaintainedDatabase>> MaintainedDatabase::Acquire(
    std::shared_ptr<const ResolvedDatabase> shared_db,
    std::shared_ptr<const MaintainerOptions> shared_options) {
  const ResolvedDatabase& db = *shared_db;
  const MaintainerOptions& options = *shared_options;
  bool exists = FileExists(db.path);
  if (!exists && !options.create_missing && !options.allow_missing) {
    return Status::NotFound("database " + db.path + " does not exist");
  }
  auto lock = MaintainerLock::Acquire(db.path, options.lock_dir);
  if (!lock.ok() && !(options.beside_maintainer && lock.status().code() == StatusCode::kLockHeld)) {
    return lock.status();
  }
  std::optional<MaintainerLock> held;
  if (lock.ok()) held.emplace(std::move(lock).value());
  std::unique_ptr<MaintainedDatabase> self(
      new MaintainedDatabase(shared_db, shared_options, std::move(held)));
  if (!self->lock_) self->beside_holder_ = lock.status().message();
  if (!exists && options.create_missing) {
    // A database we create is set up the way this daemon maintains best: WAL and
    // incremental auto_vacuum (which must be set before the first table).
    OpenOptions open;
    open.create = true;
    open.busy_timeout = db.policy.busy_timeout;
    auto conn = Connection::Open(db.path, open);
    if (!conn.ok()) return conn.status();
    MAINTD_RETURN_IF_ERROR(conn->Exec("PRAGMA auto_vacuum=INCREMENTAL"));
    MAINTD_RETURN_IF_ERROR(conn->Exec("PRAGMA journal_mode=WAL"));
    spdlog::info("db={} created {} (WAL, auto_vacuum=incremental)", db.name, db.path);
  }
  return self;
}

std::shared_ptr<const ResolvedDatabase> MaintainedDatabase::settings() const {
  std::lock_guard lock(mu_);
  return db_;
}

void MaintainedDatabase::UpdateDatabase(std::shared_ptr<const ResolvedDatabase> db) {
  bool policy_changed;
  {
    std::lock_guard lock(mu_);
    policy_changed = !(db_->policy == db->policy);
    db_ = std::move(db);
  }
  // A job settled under the old policy may have work under the new one (a glob rescan
  // every minute passes the same policy: nothing to undo then).
  if (policy_changed) changes_.UnsettleAll();
}

Result<Connection> MaintainedDatabase::OpenConnection(DbAccess access) const {
  OpenOptions open;
  open.read_only = access == DbAccess::kReadOnly;
  open.busy_timeout = settings()->policy.busy_timeout;
  return Connection::Open(path_, open);
}

spdlog::level::level_enum MaintainedDatabase::LogLevelFor(const JobOutcome& out,
                                                          std::string& what) {
  if (out.status == HealthStatus::kCritical) return spdlog::level::err;
  // Warnings per state change, not per run (issue 12): a warning that stays the same from
  // run to run (a WAL above its threshold, a busy database, fragmentation) is logged at
  // warn when it appears, changes or has lasted another hour; the runs in between log at
  // info; the run that finds it gone says so.
  std::string key = out.job;
  std::string variant = out.skip_reason;
  for (const CheckRow& row : out.report.checks) {
    if (row.details.is_object() && row.details.contains("table") &&
        row.details["table"].is_string()) {
      key = out.job + ":" + row.details["table"].get<std::string>();
    }
    if (row.status != HealthStatus::kHealthy) {
      variant += (variant.empty() ? "" : ",") + row.check_type + "=" + ToString(row.status);
    }
  }
  if (out.status == HealthStatus::kHealthy) {
    if (conditions_.Clears(key) == StateChangeLog::Event::kCleared) {
      what += " (the earlier warning cleared)";
    }
    return spdlog::level::info;
  }
  if (conditions_.Holds(key, variant, *options_->clock) != StateChangeLog::Event::kNone) {
    return spdlog::level::warn;
  }
  if (auto since = conditions_.Since(key)) {
    what += " (unchanged since " + StateChangeLog::FormatUtc(*since) + ")";
  }
  return spdlog::level::info;
}

JobOutcome MaintainedDatabase::Run(Job& job, JobTrigger trigger, StopToken& stop,
                                   std::optional<std::chrono::steady_clock::time_point> deadline) {
  const std::shared_ptr<const ResolvedDatabase> shared_settings = settings();
  const ResolvedDatabase& settings = *shared_settings;  // this run's, whatever a reload does
  const JobTraits traits = job.traits();
  JobOutcome out;
  out.job = job.name();
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Journal> journal;
  std::vector<CheckRow> gate_rows;
  auto finish = [&]() -> JobOutcome {
    {
      std::lock_guard lock(last_runs_mu_);
      last_runs_.reset();  // this run may have added journal rows
    }
    out.duration_ms = ElapsedMs(start);
    std::string what = out.error.ok() ? out.report.summary : out.error.ToString();
    spdlog::log(LogLevelFor(out, what), "db={} job={} status={}{} duration_ms={} {}", settings.name,
                out.job, ToString(out.status), out.skipped ? " (skipped)" : "", out.duration_ms,
                what);
    if (options_->on_outcome) options_->on_outcome(settings, out);
    return out;
  };
  auto fail = [&](const Status& s) {
    out.error = s;
    bool busy = s.busy();
    out.skipped = busy || s.code() == StatusCode::kRefused || s.code() == StatusCode::kCorrupt;
    out.skip_reason = busy                               ? "busy"
                      : s.code() == StatusCode::kCorrupt ? "corrupt"
                      : s.code() == StatusCode::kRefused ? "refused"
                                                         : "";
    out.status = busy ? HealthStatus::kWarning : HealthStatus::kCritical;
  };

  if (beside() && !traits.beside_maintainer) {
    fail(Status::LockHeld(beside_holder_));
    return finish();
  }

  // Work only where something changed (change_tracker.h): every run first compares the
  // files with what our last run left; a scheduled job whose work cannot have changed is
  // skipped here, before the gate, without opening the database or writing a row.
  const std::string probe =
      traits.skips_when_unchanged ? job.ChangeProbe(settings, *options_->clock) : "";
  {
    const FileSignature before = ReadFileSignature(path_);
    const bool unchanged = changes_.Observe(before);
    if (trigger == JobTrigger::kScheduled && traits.skips_when_unchanged) {
      const SystemTime now = options_->clock->Now();
      // Proven from the files (no WAL frame to checkpoint, a current header below the
      // vacuum trigger): skipped at first contact too; not while the job's last run left a
      // warning standing (only a real run can say it cleared, in the log and the metrics),
      // nor on a database known corrupt (every run is refused, loudly, by the gate).
      const bool nothing = before.exists && !gate_.known_corrupt() && !conditions_.Since(out.job) &&
                           job.NothingToDo(settings, before);
      const bool first_look = !changes_.Knows(out.job);
      if (nothing) changes_.MarkSettled(out.job, probe, now);
      if (nothing ||
          (unchanged && changes_.MaySkip(out.job, probe, now, traits.settled_rerun_after))) {
        out.skipped = true;
        out.skip_reason = out.report.skip_reason = "unchanged";
        out.report.summary = nothing ? "nothing to do: " + before.Describe()
                                     : "unchanged since its last run: " + before.Describe();
        // The gauges the job's run would have set, from the same files.
        out.report.figures.db_bytes = before.size;
        out.report.figures.wal_bytes = before.wal_exists ? before.wal_size : 0;
        if (before.HeaderIsCurrent())
          out.report.figures.freelist_count = before.header->freelist_count;
        out.duration_ms = ElapsedMs(start);
        // The first look of each job after the start says so at info (the operator sees
        // every job reach every database once); later skips log at debug only.
        spdlog::log(first_look ? spdlog::level::info : spdlog::level::debug,
                    "db={} job={} skipped (unchanged) {}", settings.name, out.job,
                    out.report.summary);
        if (options_->on_outcome) options_->on_outcome(settings, out);
        return out;
      }
    }
  }
  // What runs, for `status` (the lock file's activity line) and the caller's sink; the
  // line is removed when this returns.
  RunProgress progress(job.name(), *options_->clock, options_->progress,
                       !lock_ ? RunProgress::WriteActivity()
                              : RunProgress::WriteActivity([this](const std::string& line) {
                                  Status s = lock_->WriteActivity(line);
                                  if (!s.ok()) {
                                    spdlog::debug("db={} activity not kept in {}: {}", path_,
                                                  lock_->path(), s.message());
                                  }
                                }));
  progress.Start();

  // The gate: jobs that check integrity themselves run on a read-only connection whatever
  // is known; a restore replaces the file; everything else waits for a sound verdict.
  bool gated = !traits.proves_integrity && traits.access != DbAccess::kReplaces;
  if (gated) {
    Status admitted = gate_.Admit(settings, stop, &gate_rows);
    out.gate_checks = gate_rows;
    if (!admitted.ok()) {
      fail(admitted);
      for (CheckRow& row : gate_rows) out.report.checks.push_back(row);
      WriteRows(out.job, journal, gate_rows, {}, deadline.has_value(), admitted.busy());
      return finish();
    }
  }

  std::optional<Connection> conn;
  if (traits.access != DbAccess::kReplaces) {
    auto opened = OpenConnection(traits.access);
    if (!opened.ok()) {
      if (opened.status().code() == StatusCode::kCorrupt) {
        gate_.Record(IntegrityVerdict::kCorrupt, job.name(), opened.status().message());
      }
      fail(opened.status());
      return finish();
    }
    conn.emplace(std::move(opened).value());
  }
  std::optional<ScopedInterruptible> interruptible;
  std::optional<BusyTimeoutCap> cap;  // under a deadline, lock waits end by it
  if (conn) {
    interruptible.emplace(stop, *conn);
    if (deadline) cap.emplace(*conn, *deadline);
  }
  // Writers journal as they go (vacuum_log rows); proving and replacing jobs only after
  // their verdict.
  if (gated && traits.access == DbAccess::kWrites) journal = OpenJournalForWrite();
  if (journal && deadline) journal->LimitWriteWait(kDeadlineJournalWait, Millis(0));
  JobContext ctx{settings, conn ? &*conn : nullptr, journal.get(), *options_->clock, stop, trigger,
                 deadline};
  ctx.beside_maintainer = beside();
  ctx.wal_pins = &wal_pins_;
  ctx.progress = &progress;
  IntegrityState known = gate_.state();
  if (known.verdict == IntegrityVerdict::kSound && known.this_process &&
      known.source == "quick_check") {
    ctx.verified_at = known.at;
  }
  auto result = job.Run(ctx);
  bool settled = false;
  bool changed_data = traits.access == DbAccess::kReplaces;
  cap.reset();
  interruptible.reset();
  conn.reset();  // before a restore's verdict and before the journal writes below
  if (result.ok()) {
    out.report = std::move(result).value();
    out.status = out.report.status;
    out.skip_reason = out.report.skip_reason;
    // Only scheduled runs settle their job: a command's run of the same job (another
    // instance, other options) leaves the scheduled one to look for itself once.
    settled =
        traits.skips_when_unchanged && out.report.settled && trigger == JobTrigger::kScheduled;
    changed_data = changed_data || ChangedData(out.report.figures);
    if (traits.proves_integrity) {
      gate_.Record(out.report.integrity, job.name(), FirstProblem(out.report));
    }
    if (traits.access == DbAccess::kReplaces) {
      // The file is now a verified backup: what was known of the old one no longer holds.
      gate_.Record(IntegrityVerdict::kSound, job.name(), "");
    }
    if (out.report.integrity == IntegrityVerdict::kCorrupt) out.status = HealthStatus::kCritical;
  } else {
    fail(result.status());
    // (A restore's Corrupt error is about the backup, not this database.)
    if (result.status().code() == StatusCode::kCorrupt && traits.access != DbAccess::kReplaces) {
      gate_.Record(IntegrityVerdict::kCorrupt, job.name(), result.status().message());
    }
    CheckRow row{job.journal_key(),
                 out.status,
                 {{"error", out.error.message()}, {"duration_ms", ElapsedMs(start)}}};
    if (out.error.busy()) row.details["skipped"] = "busy";
    out.report.checks.push_back(row);
  }
  const bool run_was_busy = out.error.busy();
  // Every row carries duration_ms (CONTRACT.md section 7): a check that did not time itself
  // gets the run's.
  for (CheckRow& row : out.report.checks) {
    if (!row.details.is_object()) row.details = nlohmann::json::object();
    if (!row.details.contains("duration_ms")) row.details["duration_ms"] = ElapsedMs(start);
  }
  // Rows of runs not started by the schedule say so (CONTRACT.md section 7 details).
  if (trigger == JobTrigger::kShutdown || trigger == JobTrigger::kCommand) {
    for (CheckRow& row : out.report.checks) {
      if (!row.details.contains("trigger")) {
        row.details["trigger"] = trigger == JobTrigger::kShutdown ? "shutdown" : "command";
      }
    }
  }
  // A restore writes no row: the restored file is the backup, byte for byte (and a failed
  // one leaves the database exactly as it was).
  if (traits.access != DbAccess::kReplaces) {
    std::vector<CheckRow> rows = gate_rows;
    rows.insert(rows.end(), out.report.checks.begin(), out.report.checks.end());
    WriteRows(out.job, journal, rows, out.report.metrics, deadline.has_value(), run_was_busy);
  }
  // What our run left, read once our connections are closed (the journal's last: closing
  // it may checkpoint): our own writes never count as a change at the next run.
  journal.reset();
  changes_.Record(out.job, settled, changed_data, probe, ReadFileSignature(path_),
                  options_->clock->Now());
  return finish();
}

bool MaintainedDatabase::UnchangedSinceFirstLook(const FileSignature& now) const {
  return changes_.UnchangedSinceFirstLook(now);
}

bool MaintainedDatabase::SettledUnchanged(const FileSignature& now,
                                          const std::vector<std::string>& jobs) const {
  return changes_.SettledUnchanged(now, jobs);
}

}  // namespace maintd
