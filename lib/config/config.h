#pragma once
// The configuration as plain structs (CONTRACT.md section 3). Every member's initializer is
// the documented default, so `Config{}` is the embedded default configuration. The YAML
// loader (daemon/config_yaml.cc) is the only code that fills these from a file; the library
// only reads them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/clock.h"
#include "lib/core/units.h"

namespace maintd {

using namespace std::chrono_literals;

enum class CheckpointMode { kNone, kPassive, kFull, kRestart, kTruncate };
enum class AnalyzeMode { kLimited, kFull, kOptimize };
enum class ShutdownVacuum { kIncremental, kFull, kNone };
// vacuum.convert_auto_vacuum: whether a full VACUUM switches an auto_vacuum=NONE database to
// INCREMENTAL (lib/vacuum/convert.h has the rule).
enum class ConvertAutoVacuum { kAuto, kTrue, kFalse };
enum class VerifyMode { kNone, kQuick, kFull };
enum class TimeFormat { kUnix, kUnixMs, kIso8601 };
enum class LogFormat { kText, kJson };
// What /metrics carries (docs/configuration.md, "http.metrics"): kFull has the job-duration
// histogram per database and task; kSummary has it per task only (one per daemon), for
// thousands of databases.
enum class MetricsDetail { kFull, kSummary };
enum class AttemptsDirection { kUp, kDown };

const char* ToString(CheckpointMode m);
const char* ToString(AnalyzeMode m);
const char* ToString(ShutdownVacuum m);
const char* ToString(ConvertAutoVacuum m);  // "auto" | "true" | "false"
const char* ToString(VerifyMode m);
const char* ToString(TimeFormat m);
const char* ToString(LogFormat m);
const char* ToString(MetricsDetail m);
const char* ToString(AttemptsDirection d);

// A value the daemon writes into a column: SQL NULL, an integer, a real number or text.
struct SqlValue {
  enum class Kind { kNull, kInteger, kReal, kText };
  Kind kind = Kind::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string text;
  bool operator==(const SqlValue&) const = default;
};

struct CheckpointPolicy {
  Millis every = 5min;  // 0 disables the job
  CheckpointMode mode = CheckpointMode::kPassive;
  int64_t truncate_wal_above = 64LL << 20;  // bytes; 0 never escalates to TRUNCATE
  bool operator==(const CheckpointPolicy&) const = default;
};

struct AnalyzePolicy {
  std::optional<TimeOfDay> daily_at = TimeOfDay{3, 0, false};  // nullopt disables
  AnalyzeMode mode = AnalyzeMode::kLimited;
  int64_t analysis_limit = 1000;
  bool operator==(const AnalyzePolicy&) const = default;
};

struct VacuumPolicy {
  Millis check_every = 15min;  // 0 disables the job
  double trigger_free_ratio = 0.20;
  int64_t min_free_pages = 1000;
  int64_t pages_per_step = 1000;
  Millis pause_between_steps = 20ms;
  Millis max_lock_hold = 50ms;
  // auto: convert when the predicted full VACUUM holds the write lock at most
  // max_full_vacuum_stall and the trigger fires (within convert_at's window when set);
  // true: convert at the next check whatever the prediction; false: never convert.
  ConvertAutoVacuum convert_auto_vacuum = ConvertAutoVacuum::kAuto;
  Millis max_full_vacuum_stall = 500ms;
  std::optional<TimeOfDay> convert_at;  // nullopt ("") = any time
  bool full_when_no_auto_vacuum = false;
  double min_free_disk_factor = 2.0;
  bool operator==(const VacuumPolicy&) const = default;
};

struct HealthPolicy {
  Millis quick_check_every = 1h;  // 0 disables
  std::optional<TimeOfDay> integrity_check_daily_at = TimeOfDay{4, 0, false};
  int64_t size_warning = 0;  // bytes; 0 disables
  int64_t size_critical = 0;
  int64_t wal_warning = 256LL << 20;
  // One reader has pinned the growing WAL this long: wal_pin warning / critical.
  Millis wal_pin_warning = 5min;
  Millis wal_pin_critical = 1h;
  DiskThreshold free_disk_warning{10, 0};
  bool operator==(const HealthPolicy&) const = default;
};

struct BackupPolicy {
  Millis every = 0ms;  // 0 disables the scheduled backup
  std::string dir;     // "" = <db dir>/backups
  int64_t keep = 10;
  VerifyMode verify = VerifyMode::kQuick;
  bool operator==(const BackupPolicy&) const = default;
};

struct JournalRetention {
  Millis vacuum_log = 30 * 24h;
  Millis health_checks = 7 * 24h;
  Millis metrics = 30 * 24h;
  bool operator==(const JournalRetention&) const = default;
};

// Everything under `defaults:`, which each database may override key by key.
struct DatabasePolicy {
  Millis busy_timeout = 5s;
  CheckpointPolicy checkpoint;
  AnalyzePolicy analyze;
  VacuumPolicy vacuum;
  HealthPolicy health;
  BackupPolicy backup;
  JournalRetention journal_retention;
  bool operator==(const DatabasePolicy&) const = default;
};

// One lease_requeue rule (semantics: lib/jobs/lease_requeue.h, docs/configuration.md).
struct LeaseRequeueRule {
  std::string table;
  Millis every = 1min;
  std::string status_column = "status";
  std::string leased_value = "leased";
  std::string queued_value = "queued";
  // Exactly one of expires_column / heartbeat_column is set (the loader clears
  // expires_column's default when heartbeat_column is given).
  std::string expires_column = "lease_expires_at";  // when the lease ends
  std::string heartbeat_column;                     // when the holder last beat; "" = none
  Millis stale_after = 5min;  // heartbeat rules: a beat older than this (plus grace) is dead
  TimeFormat time_format = TimeFormat::kUnix;       // of whichever time column is set
  Millis grace = 30s;  // expired only when expires < now - grace
  std::string owner_column;     // "" = none
  SqlValue owner_reset_value;   // what owner_column becomes on requeue; default SQL NULL
  std::string attempts_column;  // "" = none
  AttemptsDirection attempts_direction = AttemptsDirection::kUp;  // down: runs left
  int64_t max_attempts = 0;     // 0 = no dead-lettering (direction up only)
  std::string dead_value = "dead";
  int64_t batch = 500;
  bool operator==(const LeaseRequeueRule&) const = default;
};

struct RetentionRule {
  std::string table;
  std::string time_column = "created_at";
  TimeFormat time_format = TimeFormat::kUnix;
  std::optional<Millis> archive_after;  // set together with archive_to
  std::string archive_to;
  Millis delete_after = 90 * 24h;
  std::string keep_where;  // "" = none; a single SQL expression
  int64_t batch = 1000;
  Millis pause_between_batches = 50ms;
  bool dry_run = false;
  Millis every = 1h;  // how often the rule runs
  bool operator==(const RetentionRule&) const = default;
};

// One `databases:` entry as written. A glob entry expands to many ResolvedDatabase.
struct DatabaseConfig {
  std::string name;  // "" = the file stem
  std::string path;  // exactly one of path / glob
  std::string glob;
  bool create_missing = false;
  DatabasePolicy policy;
  std::vector<LeaseRequeueRule> lease_requeue;
  std::vector<RetentionRule> retention;
};

struct ShutdownConfig {
  Millis deadline = 20s;
  ShutdownVacuum vacuum = ShutdownVacuum::kIncremental;
  CheckpointMode checkpoint = CheckpointMode::kTruncate;  // none | passive | truncate
  bool analyze = true;
};

struct Config {
  std::string source;  // file the config came from; "" = embedded default
  std::string log_level = "info";
  LogFormat log_format = LogFormat::kText;
  std::string http_listen = "127.0.0.1:9187";  // "" disables HTTP
  // http.listen was given in the config file: then an address that cannot be bound is a
  // startup error; the default address, when taken, only costs the endpoints (a warning).
  bool http_listen_given = false;
  MetricsDetail http_metrics = MetricsDetail::kFull;
  int64_t max_concurrent_jobs = 1;
  std::string journal = "target";  // "target" or an absolute path to a central journal db
  std::string lock_dir;            // "" = beside each database (extension of the contract)
  Millis glob_rescan_every = 1min;  // how often glob entries are re-expanded
  ShutdownConfig shutdown;
  DatabasePolicy defaults;
  std::vector<DatabaseConfig> databases;
};

// A concrete database the daemon maintains: a path entry, or one file matched by a glob.
struct ResolvedDatabase {
  std::string name;
  std::string path;  // absolute
  bool create_missing = false;
  DatabasePolicy policy;
  std::vector<LeaseRequeueRule> lease_requeue;
  std::vector<RetentionRule> retention;
  bool operator==(const ResolvedDatabase&) const = default;
};

}  // namespace maintd
