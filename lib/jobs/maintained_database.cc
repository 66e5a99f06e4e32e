#include "lib/jobs/maintained_database.h"

#include <spdlog/spdlog.h>

#include "lib/inspect/db_stats.h"
#include "lib/sqlite/statement.h"

namespace maintd {

Result<std::unique_ptr<MaintainedDatabase>> MaintainedDatabase::Acquire(
    const ResolvedDatabase& db, const MaintainerOptions& options) {
  bool exists = FileExists(db.path);
  if (!exists && !options.create_missing) {
    return Status::NotFound("database " + db.path + " does not exist");
  }
  auto lock = MaintainerLock::Acquire(db.path, options.lock_dir);
  if (!lock.ok()) return lock.status();
  std::unique_ptr<MaintainedDatabase> self(
      new MaintainedDatabase(db, options, std::move(lock).value()));
  if (!exists) {
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
  auto journal = self->OpenJournal();
  if (journal) {
    auto repaired = journal->RepairOrphans();
    if (repaired.ok() && *repaired > 0) {
      spdlog::warn("db={} marked {} orphaned running vacuum row(s) failed", db.name, *repaired);
    } else if (!repaired.ok()) {
      spdlog::warn("db={} could not repair orphaned journal rows: {}", db.name,
                   repaired.status().ToString());
    }
    self->LoadIntegrityFromJournal();
  }
  return self;
}

ResolvedDatabase MaintainedDatabase::db() const {
  std::lock_guard lock(mu_);
  return db_;
}

void MaintainedDatabase::UpdateDatabase(ResolvedDatabase db) {
  std::lock_guard lock(mu_);
  db_ = std::move(db);
}

Result<Connection> MaintainedDatabase::OpenConnection() const {
  ResolvedDatabase db = this->db();
  OpenOptions open;
  open.busy_timeout = db.policy.busy_timeout;
  return Connection::Open(db.path, open);
}

std::unique_ptr<Journal> MaintainedDatabase::OpenJournal() {
  bool central = !options_.journal.central_path.empty();
  if (corrupt_ && !central) return nullptr;
  auto journal = Journal::Open(path_, options_.journal, *options_.clock);
  if (!journal.ok()) {
    if (journal.status().code() == StatusCode::kCorrupt) corrupt_ = true;
    spdlog::warn("db={} journal unavailable: {}", path_, journal.status().ToString());
    return nullptr;
  }
  return std::move(journal).value();
}

void MaintainedDatabase::LoadIntegrityFromJournal() {
  auto journal = OpenJournal();
  if (!journal) return;
  for (const char* type : {"quick_check", "integrity_check"}) {
    auto last = journal->LastCheck(type);
    if (!last.ok() || !last->has_value()) continue;
    if ((*last)->status == HealthStatus::kCritical) corrupt_ = true;
  }
  auto when = journal->LastRun("quick_check");
  auto last_quick = journal->LastCheck("quick_check");
  if (!corrupt_ && when.ok() && when->has_value() && last_quick.ok() &&
      last_quick->has_value() && (*last_quick)->status == HealthStatus::kHealthy) {
    last_good_check_ = **when;
  }
}

void MaintainedDatabase::NoteIntegrity(bool ok, SystemTime at) {
  if (ok) {
    corrupt_ = false;
    last_good_check_ = at;
  } else {
    corrupt_ = true;
  }
}

Status MaintainedDatabase::EnsureSafeToWrite(Connection& conn) {
  if (corrupt_) {
    return Status::Corrupt("last integrity result for " + path_ +
                           " is critical; destructive jobs are suspended");
  }
  SystemTime now = options_.clock->Now();
  if (last_good_check_ && now - *last_good_check_ < options_.recent_check) return Status::Ok();
  auto start = std::chrono::steady_clock::now();
  auto stmt = conn.Prepare("PRAGMA quick_check");
  if (!stmt.ok()) {
    if (stmt.status().code() == StatusCode::kCorrupt) corrupt_ = true;
    return stmt.status();
  }
  std::vector<std::string> problems;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) {
      if (row.status().code() != StatusCode::kCorrupt) return row.status();
      problems.push_back(row.status().message());
      break;
    }
    if (!*row) break;
    std::string msg = stmt->Text(0);
    if (msg != "ok" && problems.size() < 10) problems.push_back(msg);
  }
  stmt = Status::Failed("finalized");  // release the read transaction before writing
  CheckRow row{"quick_check", HealthStatus::kHealthy,
               {{"duration_ms", ElapsedMs(start)}, {"reason", "before destructive job"}}};
  if (!problems.empty()) {
    corrupt_ = true;
    spdlog::critical("db={} quick_check failed: {}", path_, problems.front());
    if (!options_.journal.central_path.empty()) {
      row.status = HealthStatus::kCritical;
      row.details["problems"] = problems;
      if (auto journal = OpenJournal()) (void)journal->RecordCheck(row);
    }
    return Status::Corrupt("quick_check of " + path_ + " failed: " + problems.front());
  }
  last_good_check_ = now;
  if (auto journal = OpenJournal()) (void)journal->RecordCheck(row);
  return Status::Ok();
}

JobOutcome MaintainedDatabase::Run(Job& job, JobTrigger trigger, StopToken& stop,
                                   std::optional<std::chrono::steady_clock::time_point> deadline) {
  const ResolvedDatabase settings = db();  // this run's, whatever a reload does
  JobOutcome out;
  out.job = job.name();
  auto start = std::chrono::steady_clock::now();
  auto finish = [&]() -> JobOutcome {
    out.duration_ms = ElapsedMs(start);
    auto level = out.status == HealthStatus::kCritical  ? spdlog::level::err
                 : out.status == HealthStatus::kWarning ? spdlog::level::warn
                                                        : spdlog::level::info;
    std::string what = out.error.ok() ? out.report.summary : out.error.ToString();
    spdlog::log(level, "db={} job={} status={}{} duration_ms={} {}", settings.name, out.job,
                ToString(out.status), out.skipped ? " (skipped)" : "", out.duration_ms, what);
    if (options_.on_outcome) options_.on_outcome(settings, out);
    return out;
  };
  auto fail = [&](Status s) {
    out.error = s;
    bool busy = s.busy();
    out.skipped = busy || s.code() == StatusCode::kRefused;
    out.status = busy ? HealthStatus::kWarning : HealthStatus::kCritical;
    if (s.code() == StatusCode::kCorrupt) corrupt_ = true;
  };

  // A database known corrupt is not written at all (CONTRACT.md section 4): only the
  // read-only checks run on it. ANALYZE, a checkpoint or a requeue would write into it (an
  // ANALYZE succeeds on a file whose overflow pages are damaged). Destructive jobs are
  // refused by EnsureSafeToWrite below.
  if (corrupt_ && !job.destructive() && job.name() != "health" &&
      job.name() != "integrity_check") {
    fail(Status::Corrupt("last integrity result for " + path_ +
                         " is critical; jobs that write to it are suspended"));
    out.skipped = true;
    return finish();
  }
  auto conn = OpenConnection();
  if (!conn.ok()) {
    fail(conn.status());
    return finish();
  }
  ScopedInterruptible interruptible(stop, *conn);
  if (job.destructive()) {
    Status safe = EnsureSafeToWrite(*conn);
    if (!safe.ok()) {
      fail(safe);
      if (safe.code() == StatusCode::kCorrupt) out.skipped = true;
      return finish();
    }
  }
  auto journal = OpenJournal();
  JobContext ctx{settings, *conn, journal.get(), *options_.clock, stop, trigger, deadline};
  auto result = job.Run(ctx);
  if (result.ok()) {
    out.report = std::move(result).value();
    out.status = out.report.status;
    if (out.report.found_corruption) {
      corrupt_ = true;
      out.status = HealthStatus::kCritical;
    } else if (out.status == HealthStatus::kHealthy && job.name() == "health") {
      last_good_check_ = options_.clock->Now();
    }
  } else {
    fail(result.status());
    CheckRow row{job.journal_key(), out.status,
                 {{"error", out.error.message()}, {"duration_ms", ElapsedMs(start)}}};
    if (out.error.busy()) row.details["skipped"] = "busy";
    out.report.checks.push_back(row);
  }
  // A database found corrupt is not written at all (journal rows included) unless the
  // journal is central.
  if (corrupt_ && options_.journal.central_path.empty()) journal.reset();
  // Every row carries duration_ms (CONTRACT.md section 7): a check that did not time itself
  // gets the run's.
  for (CheckRow& row : out.report.checks) {
    if (!row.details.is_object()) row.details = nlohmann::json::object();
    if (!row.details.contains("duration_ms")) row.details["duration_ms"] = ElapsedMs(start);
  }
  if (journal) {
    Status s = journal->RecordChecks(out.report.checks);
    if (s.ok()) s = journal->RecordMetrics(out.report.metrics);
    if (!s.ok()) spdlog::warn("db={} job={} journal write failed: {}", settings.name, out.job,
                              s.ToString());
  }
  return finish();
}

}  // namespace maintd
