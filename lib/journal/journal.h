#pragma once
// The only code that writes the log tables of CONTRACT.md section 7: sqlite_vacuum_log,
// sqlite_health_checks, sqlite_performance_metrics.
//
// A Journal is bound to one maintained database (`db_path`, the value of the db_path
// column). Its rows go into that database itself ("target" mode) or into one central
// journal database shared by all. The Journal owns its own Connection; one thread at a time
// (the worker running that database's job).
//
// Opening writes nothing: the tables are created by the first write (so a database that
// the integrity gate has not admitted is never touched: jobs/integrity_gate.h). Reads
// on a journal whose tables do not exist yet find nothing. A read-only Journal
// (JournalAccess::kRead) opens its connection read-only and refuses every write. Every write is a short BEGIN IMMEDIATE
// transaction that waits for the write lock at most the target's busy_timeout (issue 16: not
// busy_timeout plus a retry); a write that still fails returns the Status and the caller
// logs it: a journal failure never fails the maintenance itself.
//
// The table names begin with "sqlite_", which SQLite reserves: they are created inside one
// transaction with PRAGMA writable_schema=ON around the CREATE statements only.

#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/sqlite/connection.h"

namespace maintd {

enum class HealthStatus { kHealthy, kWarning, kCritical };
const char* ToString(HealthStatus s);
HealthStatus Worst(HealthStatus a, HealthStatus b);

// One sqlite_health_checks row.
struct CheckRow {
  std::string check_type;  // checkpoint, analyze, quick_check, wal_size, ...
  HealthStatus status = HealthStatus::kHealthy;
  nlohmann::json details = nlohmann::json::object();
};

// A row written later than it was made (a busy skip's row kept until the database is free:
// maintained_database.h), with the time it was made (its checked_ts).
struct TimedCheckRow {
  CheckRow row;
  SystemTime at;
};

// One sqlite_performance_metrics row.
struct MetricRow {
  std::string name;  // e.g. "checkpoint.duration_ms"
  double value = 0;
  std::string unit;  // ms | pages | bytes | rows
  nlohmann::json context = nlohmann::json::object();
};

struct VacuumResult {
  bool completed = false;  // false = failed
  int64_t pages_freed = 0;
  int64_t bytes_freed = 0;
  int64_t duration_ms = 0;
  std::string error_message;  // for failed runs
};

// The newest quick_check or integrity_check row of a database.
struct PastIntegrityCheck {
  std::string check_type;
  HealthStatus status = HealthStatus::kHealthy;
  SystemTime at;
  std::string problem;  // first message when not healthy
};

// Where journal rows go.
struct JournalTarget {
  std::string central_path;  // "" = into the maintained database itself
  Millis busy_timeout = 5s;
};

enum class JournalAccess { kReadWrite, kRead };

class Journal {
 public:
  // Opens the journal for `db_path`. Writes nothing (the tables come with the first write).
  // Fails when the database (or central journal) cannot be opened; a central journal that
  // does not exist is created for kReadWrite and NotFound for kRead.
  static Result<std::unique_ptr<Journal>> Open(const std::string& db_path,
                                               const JournalTarget& target,
                                               const Clock& clock = RealClock::Instance(),
                                               JournalAccess access = JournalAccess::kReadWrite);

  // Creates the three tables in `conn` (idempotent). Exposed for tests and the central db.
  static Status CreateTables(Connection& conn);

  // Inserts a `running` sqlite_vacuum_log row; returns its id.
  Result<int64_t> BeginVacuum(const std::string& vacuum_type);
  Status FinishVacuum(int64_t id, const VacuumResult& result);

  Status RecordCheck(const CheckRow& row);
  Status RecordChecks(const std::vector<CheckRow>& rows);  // checked_ts: now
  Status RecordTimedChecks(const std::vector<TimedCheckRow>& rows);
  Status RecordMetrics(const std::vector<MetricRow>& rows);

  // Sets rows left `running` to `failed` with "daemon stopped during run". Call only while
  // holding the database's maintainer lock. Returns how many rows were repaired.
  Result<int64_t> RepairOrphans();

  // Deletes rows older than the retention of each table (only this database's rows).
  Status Prune(const JournalRetention& retention);

  // Time of the newest row for `check_type` (or of the newest vacuum run when check_type is
  // "vacuum"), nullopt when none. The scheduler's memory across restarts.
  Result<std::optional<SystemTime>> LastRun(const std::string& check_type);
  // LastRun of every check_type at once (and "vacuum"), in one read: the scheduler seeds
  // all of a database's jobs from it (one open per database, not one per job). Empty when
  // the tables do not exist. Also holds, under kOldestRow, the time of the database's
  // oldest journal row (the first row by id of each table; rows are appended in time).
  Result<std::map<std::string, SystemTime>> LastRuns();
  static constexpr const char* kOldestRow = "*oldest_row";
  // The newest row of a check: status and details.
  Result<std::optional<CheckRow>> LastCheck(const std::string& check_type);
  // The newest quick_check / integrity_check row (the integrity gate's evidence).
  Result<std::optional<PastIntegrityCheck>> NewestIntegrityCheck();

  const std::string& db_path() const { return db_path_; }
  Connection& connection() { return conn_; }
  // Bounds every later write: BEGIN IMMEDIATE waits at most `busy_timeout` for the lock and
  // is retried for `retry` more (defaults: the target's busy_timeout, no retry). Used under
  // the shutdown deadline, where a journal write must not outlive it, and for rows kept
  // while the database was locked.
  void LimitWriteWait(Millis busy_timeout, Millis retry) {
    conn_.SetBusyTimeout(busy_timeout);
    write_retry_ = retry;
  }

 private:
  Journal(std::string db_path, Connection conn, const Clock& clock, JournalAccess access)
      : db_path_(std::move(db_path)), conn_(std::move(conn)), clock_(clock), access_(access) {}
  // Creates the tables when missing (first write), then runs `body` in one BEGIN IMMEDIATE.
  Status WriteInTransaction(const std::function<Status()>& body);
  // Whether the tables exist (cached once true). Reads return "nothing" when they do not.
  Result<bool> TablesExist();

  std::string db_path_;
  Connection conn_;
  const Clock& clock_;
  JournalAccess access_;
  bool tables_exist_ = false;
  Millis write_retry_{0};
};

}  // namespace maintd
