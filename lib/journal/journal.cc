#include "lib/journal/journal.h"

#include "lib/core/units.h"
#include "lib/sqlite/statement.h"
#include "lib/sqlite/transaction.h"

namespace maintd {

const char* ToString(HealthStatus s) {
  switch (s) {
    case HealthStatus::kHealthy: return "healthy";
    case HealthStatus::kWarning: return "warning";
    case HealthStatus::kCritical: return "critical";
  }
  return "?";
}

HealthStatus Worst(HealthStatus a, HealthStatus b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

namespace {

// The schema of CONTRACT.md section 7, verbatim. Fixed forever: tables created with
// writable_schema can't be altered or dropped with plain SQL.
constexpr const char* kCreateTables = R"sql(
CREATE TABLE IF NOT EXISTS sqlite_vacuum_log (
    id INTEGER PRIMARY KEY,
    db_path TEXT NOT NULL,
    vacuum_type TEXT NOT NULL CHECK (vacuum_type IN ('auto', 'incremental', 'full')),
    started_ts TEXT NOT NULL DEFAULT (datetime('now')),
    completed_ts TEXT,
    pages_freed INTEGER DEFAULT 0,
    bytes_freed INTEGER DEFAULT 0,
    duration_ms INTEGER DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    error_message TEXT
);
CREATE TABLE IF NOT EXISTS sqlite_health_checks (
    id INTEGER PRIMARY KEY,
    db_path TEXT NOT NULL,
    check_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('healthy', 'warning', 'critical')),
    details TEXT,
    checked_ts TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS sqlite_performance_metrics (
    id INTEGER PRIMARY KEY,
    db_path TEXT NOT NULL,
    metric_name TEXT NOT NULL,
    metric_value REAL NOT NULL,
    unit TEXT NOT NULL,
    recorded_ts TEXT NOT NULL DEFAULT (datetime('now')),
    context TEXT
);
)sql";

constexpr std::chrono::milliseconds kWriteRetry{2000};

// The CREATE TABLE transaction, waiting for the write lock the connection's busy_timeout and
// then retrying for `retry` more.
Status CreateTablesRetrying(Connection& conn, std::chrono::milliseconds retry) {
  auto present = conn.QueryInt(
      "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
      "('sqlite_vacuum_log','sqlite_health_checks','sqlite_performance_metrics')");
  if (!present.ok()) return present.status();
  if (*present == 3) return Status::Ok();
  auto tx = Transaction::BeginImmediate(conn, retry);
  if (!tx.ok()) return tx.status();
  // writable_schema only around the CREATE statements, switched off again at once even
  // when they fail.
  MAINTD_RETURN_IF_ERROR(conn.Exec("PRAGMA writable_schema=ON"));
  Status created = conn.Exec(kCreateTables);
  Status off = conn.Exec("PRAGMA writable_schema=OFF");
  MAINTD_RETURN_IF_ERROR(created);
  MAINTD_RETURN_IF_ERROR(off);
  return tx->Commit();
}

}  // namespace

Status Journal::CreateTables(Connection& conn) { return CreateTablesRetrying(conn, kWriteRetry); }

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& db_path,
                                               const JournalTarget& target,
                                               const Clock& clock, JournalAccess access) {
  bool central = !target.central_path.empty();
  bool read_only = access == JournalAccess::kRead;
  OpenOptions opts;
  opts.read_only = read_only;
  opts.create = central && !read_only;
  opts.busy_timeout = target.busy_timeout;
  auto conn = Connection::Open(central ? target.central_path : db_path, opts);
  if (!conn.ok()) return conn.status();
  if (central && !read_only) {
    // The central journal is ours alone: WAL lets many workers append concurrently.
    (void)conn->Exec("PRAGMA journal_mode=WAL");
  }
  return std::unique_ptr<Journal>(new Journal(db_path, std::move(conn).value(), clock, access));
}

Result<bool> Journal::TablesExist() {
  if (tables_exist_) return true;
  auto present = conn_.QueryInt(
      "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
      "('sqlite_vacuum_log','sqlite_health_checks','sqlite_performance_metrics')");
  if (!present.ok()) return present.status();
  tables_exist_ = *present == 3;
  return tables_exist_;
}

Status Journal::WriteInTransaction(const std::function<Status()>& body) {
  if (access_ == JournalAccess::kRead) {
    return Status::Failed("journal of " + db_path_ + " was opened read-only");
  }
  if (!tables_exist_) {
    MAINTD_RETURN_IF_ERROR(CreateTablesRetrying(conn_, write_retry_));
    tables_exist_ = true;
  }
  auto tx = Transaction::BeginImmediate(conn_, write_retry_);
  if (!tx.ok()) return tx.status();
  MAINTD_RETURN_IF_ERROR(body());
  return tx->Commit();
}

Result<int64_t> Journal::BeginVacuum(const std::string& vacuum_type) {
  int64_t id = 0;
  Status s = WriteInTransaction([&]() -> Status {
    auto stmt = conn_.Prepare(
        "INSERT INTO sqlite_vacuum_log(db_path, vacuum_type, started_ts, status) "
        "VALUES (?1, ?2, ?3, 'running')");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, db_path_).Bind(2, vacuum_type).Bind(3, FormatSqliteUtc(clock_.Now()));
    auto r = stmt->StepUntilDone();
    if (!r.ok()) return r.status();
    auto last = conn_.QueryInt("SELECT last_insert_rowid()");
    if (!last.ok()) return last.status();
    id = *last;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return id;
}

Status Journal::FinishVacuum(int64_t id, const VacuumResult& r) {
  return WriteInTransaction([&]() -> Status {
    auto stmt = conn_.Prepare(
        "UPDATE sqlite_vacuum_log SET completed_ts=?1, pages_freed=?2, bytes_freed=?3, "
        "duration_ms=?4, status=?5, error_message=?6 WHERE id=?7");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, FormatSqliteUtc(clock_.Now()))
        .Bind(2, r.pages_freed)
        .Bind(3, r.bytes_freed)
        .Bind(4, r.duration_ms)
        .Bind(5, r.completed ? "completed" : "failed");
    if (r.completed && r.error_message.empty()) stmt->BindNull(6);
    else stmt->Bind(6, r.error_message);
    stmt->Bind(7, id);
    auto done = stmt->StepUntilDone();
    return done.ok() ? Status::Ok() : done.status();
  });
}

Status Journal::RecordCheck(const CheckRow& row) { return RecordChecks({row}); }

Status Journal::RecordChecks(const std::vector<CheckRow>& rows) {
  std::vector<TimedCheckRow> timed;
  SystemTime now = clock_.Now();
  for (const CheckRow& row : rows) timed.push_back({row, now});
  return RecordTimedChecks(timed);
}

Status Journal::RecordTimedChecks(const std::vector<TimedCheckRow>& rows) {
  if (rows.empty()) return Status::Ok();
  return WriteInTransaction([&]() -> Status {
    auto stmt = conn_.Prepare(
        "INSERT INTO sqlite_health_checks(db_path, check_type, status, details, checked_ts) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!stmt.ok()) return stmt.status();
    for (const auto& [row, at] : rows) {
      MAINTD_RETURN_IF_ERROR(stmt->Reset());
      stmt->Bind(1, db_path_)
          .Bind(2, row.check_type)
          .Bind(3, ToString(row.status))
          .Bind(4, row.details.dump())
          .Bind(5, FormatSqliteUtc(at));
      auto done = stmt->StepUntilDone();
      if (!done.ok()) return done.status();
    }
    return Status::Ok();
  });
}

Status Journal::RecordMetrics(const std::vector<MetricRow>& rows) {
  if (rows.empty()) return Status::Ok();
  return WriteInTransaction([&]() -> Status {
    auto stmt = conn_.Prepare(
        "INSERT INTO sqlite_performance_metrics(db_path, metric_name, metric_value, unit, "
        "recorded_ts, context) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!stmt.ok()) return stmt.status();
    std::string now = FormatSqliteUtc(clock_.Now());
    for (const MetricRow& row : rows) {
      MAINTD_RETURN_IF_ERROR(stmt->Reset());
      stmt->Bind(1, db_path_)
          .Bind(2, row.name)
          .Bind(3, row.value)
          .Bind(4, row.unit)
          .Bind(5, now)
          .Bind(6, row.context.dump());
      auto done = stmt->StepUntilDone();
      if (!done.ok()) return done.status();
    }
    return Status::Ok();
  });
}

Result<int64_t> Journal::RepairOrphans() {
  auto exist = TablesExist();
  if (!exist.ok()) return exist.status();
  if (!*exist) return 0;  // no table, no orphan: nothing to write
  int64_t repaired = 0;
  Status s = WriteInTransaction([&]() -> Status {
    auto stmt = conn_.Prepare(
        "UPDATE sqlite_vacuum_log SET status='failed', error_message='daemon stopped during "
        "run', completed_ts=?2 WHERE status='running' AND db_path=?1");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, db_path_).Bind(2, FormatSqliteUtc(clock_.Now()));
    auto done = stmt->StepUntilDone();
    if (!done.ok()) return done.status();
    repaired = conn_.Changes();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return repaired;
}

Status Journal::Prune(const JournalRetention& retention) {
  auto exist = TablesExist();
  if (!exist.ok()) return exist.status();
  if (!*exist) return Status::Ok();  // nothing to prune; never create tables for it
  SystemTime now = clock_.Now();
  struct Target { const char* table; const char* ts; Millis keep; };
  const Target targets[] = {
      {"sqlite_vacuum_log", "started_ts", retention.vacuum_log},
      {"sqlite_health_checks", "checked_ts", retention.health_checks},
      {"sqlite_performance_metrics", "recorded_ts", retention.metrics},
  };
  for (const Target& t : targets) {
    if (t.keep.count() <= 0) continue;
    Status s = WriteInTransaction([&]() -> Status {
      // Never prunes a running vacuum row: it is repaired, not forgotten.
      std::string sql = std::string("DELETE FROM ") + t.table + " WHERE db_path=?1 AND " + t.ts +
                        " < ?2" +
                        (std::string(t.table) == "sqlite_vacuum_log" ? " AND status<>'running'"
                                                                     : "");
      auto stmt = conn_.Prepare(sql);
      if (!stmt.ok()) return stmt.status();
      stmt->Bind(1, db_path_).Bind(2, FormatSqliteUtc(now - t.keep));
      auto done = stmt->StepUntilDone();
      return done.ok() ? Status::Ok() : done.status();
    });
    MAINTD_RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

Result<std::optional<SystemTime>> Journal::LastRun(const std::string& check_type) {
  auto exist = TablesExist();
  if (!exist.ok()) return exist.status();
  if (!*exist) return std::optional<SystemTime>();
  bool vacuum = check_type == "vacuum";
  auto stmt = conn_.Prepare(
      vacuum ? "SELECT max(started_ts) FROM sqlite_vacuum_log WHERE db_path=?1"
             : "SELECT max(checked_ts) FROM sqlite_health_checks WHERE db_path=?1 AND "
               "check_type=?2");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, db_path_);
  if (!vacuum) stmt->Bind(2, check_type);
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row || stmt->IsNull(0)) return std::optional<SystemTime>();
  auto t = ParseSqliteUtc(stmt->Text(0));
  if (!t.ok()) return std::optional<SystemTime>();
  return std::optional<SystemTime>(*t);
}

Result<std::map<std::string, SystemTime>> Journal::LastRuns() {
  std::map<std::string, SystemTime> out;
  auto exist = TablesExist();
  if (!exist.ok()) return exist.status();
  if (!*exist) return out;
  auto stmt = conn_.Prepare(
      "SELECT check_type, max(checked_ts) FROM sqlite_health_checks WHERE db_path=?1 "
      "AND check_type <> 'vacuum' GROUP BY check_type UNION ALL "
      "SELECT 'vacuum', max(started_ts) FROM sqlite_vacuum_log WHERE db_path=?1 UNION ALL "
      "SELECT ?2, min(ts) FROM ("
      "SELECT (SELECT checked_ts FROM sqlite_health_checks WHERE db_path=?1 ORDER BY id LIMIT 1) "
      "AS ts UNION ALL "
      "SELECT (SELECT started_ts FROM sqlite_vacuum_log WHERE db_path=?1 ORDER BY id LIMIT 1) "
      "UNION ALL "
      "SELECT (SELECT recorded_ts FROM sqlite_performance_metrics WHERE db_path=?1 ORDER BY id "
      "LIMIT 1))");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, db_path_).Bind(2, kOldestRow);
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (stmt->IsNull(1)) continue;
    auto t = ParseSqliteUtc(stmt->Text(1));
    if (t.ok()) out[stmt->Text(0)] = *t;
  }
  return out;
}

Result<std::optional<CheckRow>> Journal::LastCheck(const std::string& check_type) {
  auto exist = TablesExist();
  if (!exist.ok()) return exist.status();
  if (!*exist) return std::optional<CheckRow>();
  auto stmt = conn_.Prepare(
      "SELECT status, details FROM sqlite_health_checks WHERE db_path=?1 AND check_type=?2 "
      "ORDER BY id DESC LIMIT 1");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, db_path_).Bind(2, check_type);
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<CheckRow>();
  CheckRow out;
  out.check_type = check_type;
  std::string status = stmt->Text(0);
  out.status = status == "critical"  ? HealthStatus::kCritical
               : status == "warning" ? HealthStatus::kWarning
                                     : HealthStatus::kHealthy;
  out.details = nlohmann::json::parse(stmt->Text(1), nullptr, false);
  if (out.details.is_discarded()) out.details = nlohmann::json::object();
  return std::optional<CheckRow>(std::move(out));
}

Result<std::optional<PastIntegrityCheck>> Journal::NewestIntegrityCheck() {
  auto exist = TablesExist();
  if (!exist.ok()) return exist.status();
  if (!*exist) return std::optional<PastIntegrityCheck>();
  auto stmt = conn_.Prepare(
      "SELECT check_type, status, checked_ts, details FROM sqlite_health_checks WHERE "
      "db_path=?1 AND check_type IN ('quick_check','integrity_check') ORDER BY id DESC LIMIT 1");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, db_path_);
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<PastIntegrityCheck>();
  auto at = ParseSqliteUtc(stmt->Text(2));
  if (!at.ok()) return std::optional<PastIntegrityCheck>();  // unreadable: no evidence
  PastIntegrityCheck out;
  out.check_type = stmt->Text(0);
  std::string status = stmt->Text(1);
  out.status = status == "critical"  ? HealthStatus::kCritical
               : status == "warning" ? HealthStatus::kWarning
                                     : HealthStatus::kHealthy;
  out.at = *at;
  auto details = nlohmann::json::parse(stmt->Text(3), nullptr, false);
  if (details.is_object() && details.contains("messages") && details["messages"].is_array() &&
      !details["messages"].empty() && details["messages"][0].is_string()) {
    out.problem = details["messages"][0].get<std::string>();
  } else if (details.is_object() && details.contains("error") && details["error"].is_string()) {
    out.problem = details["error"].get<std::string>();
  }
  return std::optional<PastIntegrityCheck>(std::move(out));
}

}  // namespace maintd
