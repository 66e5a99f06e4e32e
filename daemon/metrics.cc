#include "daemon/metrics.h"

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include "daemon/metrics_text.h"
#include "daemon/process_metrics.h"
#include "lib/jobs/registry.h"
#include "lib/sqlite/connection.h"
#include "maintd_version.h"

namespace maintd {

namespace {

using metrics_text::AppendHeader;
using metrics_text::AppendLabelValue;
using metrics_text::AppendNumber;
using metrics_text::AppendPlain;

// Upper bounds of the duration histogram's buckets, in seconds (+Inf is implicit).
constexpr std::array<double, 11> kBuckets{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300};

struct Histogram {
  std::array<uint64_t, kBuckets.size()> in_bucket{};  // observations per bucket, not cumulative
  uint64_t count = 0;
  double sum = 0;

  void Observe(double seconds) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      if (seconds <= kBuckets[i]) {
        ++in_bucket[i];
        break;
      }
    }
    ++count;
    sum += seconds;
  }
};

struct TaskSeries {
  double runs = 0;
  double failures = 0;
  std::map<std::string, double> skips;  // by reason; "busy" declared at 0
  Histogram duration;
  std::optional<double> last_success;
  bool running = false;
};

// Per-database series that come from job reports, in exposition order.
enum DbSeries : size_t {
  kSize,
  kFreePages,
  kWal,
  kPagesFreed,
  kRequeued,
  kDead,
  kPurged,
  kArchived,
  kBackupsDeleted,
  kLockHold,
  kWalPinAge,
  kWalNotCheckpointed,
  kWalUnreset,
  kDbSeriesCount
};

struct DbFamily {
  const char* name;
  const char* type;
  const char* help;
  const char* declared_by;  // the task whose declaration creates the series at 0, or null
};

constexpr std::array<DbFamily, kDbSeriesCount> kDbFamilies{{
    {"sqlite_maintd_database_size_bytes", "gauge", "Size of the main database file in bytes",
     nullptr},
    {"sqlite_maintd_free_pages", "gauge", "Pages on the freelist (PRAGMA freelist_count)",
     nullptr},
    {"sqlite_maintd_wal_size_bytes", "gauge", "Size of the -wal file in bytes", nullptr},
    {"sqlite_maintd_pages_freed_total", "counter",
     "Pages given back to the file system by vacuum (multiply by the page size for bytes)",
     "vacuum"},
    {"sqlite_maintd_rows_requeued_total", "counter", "Rows (expired leases) put back in the queue",
     "lease_requeue"},
    {"sqlite_maintd_rows_dead_total", "counter", "Rows moved to the dead value past max_attempts",
     "lease_requeue"},
    {"sqlite_maintd_rows_purged_total", "counter",
     "Rows deleted by retention (never counts backups: see backups_deleted_total)", "retention"},
    {"sqlite_maintd_rows_archived_total", "counter", "Rows copied to the archive by retention",
     "retention"},
    {"sqlite_maintd_backups_deleted_total", "counter",
     "Backup files deleted by backup rotation (keep)", "backup"},
    {"sqlite_maintd_max_lock_hold_seconds", "gauge",
     "Longest write-lock hold of one maintenance step in the last run, in seconds", "vacuum"},
    {"sqlite_maintd_wal_pin_age_seconds", "gauge",
     "Seconds the oldest reader has pinned the WAL (its read transaction keeps the checkpoint "
     "from copying back or resetting the log); 0 when none",
     "checkpoint"},
    {"sqlite_maintd_wal_frames_not_checkpointed", "gauge",
     "WAL frames (pages) not yet copied back into the database file", nullptr},
    {"sqlite_maintd_wal_unreset_seconds", "gauge",
     "Seconds since the WAL was last reset while frames waited to be checkpointed; 0 when none "
     "wait",
     "checkpoint"},
}};

struct DbMetrics {
  std::map<std::string, TaskSeries> tasks;  // by task (job) name
  std::map<std::string, int> health;        // by check name: 0 healthy, 1 warning, 2 critical
  std::array<std::optional<double>, kDbSeriesCount> values;
};

// name{db="..",task=".."<extra>} value
void AppendTaskSample(std::string& out, const char* name, const std::string& db,
                      const std::string& task, const char* extra, double value) {
  out += name;
  out += "{db=";
  AppendLabelValue(out, db);
  out += ",task=";
  AppendLabelValue(out, task);
  out += extra;
  out += "} ";
  AppendNumber(out, value);
  out += '\n';
}

// The samples of one histogram: cumulative buckets, +Inf, sum and count. `labels` is the
// text inside the braces before `le` ("db=\"a\",task=\"b\"").
void AppendHistogram(std::string& out, const char* name, const std::string& labels,
                     const Histogram& h) {
  std::string bucket = std::string(name) + "_bucket{" + labels + ",le=\"";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBuckets.size(); ++i) {
    out += bucket;
    if (i < kBuckets.size()) {
      cumulative += h.in_bucket[i];
      AppendNumber(out, kBuckets[i]);
    } else {
      out += "+Inf";
    }
    out += "\"} ";
    AppendNumber(out, static_cast<double>(i < kBuckets.size() ? cumulative : h.count));
    out += '\n';
  }
  out += std::string(name) + "_sum{" + labels + "} ";
  AppendNumber(out, h.sum);
  out += '\n' + std::string(name) + "_count{" + labels + "} ";
  AppendNumber(out, static_cast<double>(h.count));
  out += '\n';
}

// "3.40.1" from SQLite's version number 3040001.
std::string SqliteVersionText() {
  int n = SqliteVersionNumber();
  return std::to_string(n / 1000000) + "." + std::to_string(n / 1000 % 1000) + "." +
         std::to_string(n % 1000);
}

std::string TaskLabels(const std::string* db, const std::string& task) {
  std::string labels;
  if (db != nullptr) {
    labels = "db=";
    AppendLabelValue(labels, *db);
    labels += ',';
  }
  labels += "task=";
  AppendLabelValue(labels, task);
  return labels;
}

}  // namespace

struct Metrics::Store {
  mutable std::mutex mu;
  MetricsDetail detail = MetricsDetail::kFull;   // under mu
  std::map<std::string, DbMetrics> dbs;          // by db name, under mu
  std::map<std::string, Histogram> by_task;      // durations over all databases, under mu
  std::optional<double> databases;               // under mu
  std::optional<double> ready;                   // under mu
  mutable size_t last_size = 0;  // of the previous exposition, under mu: the next reserves it
};

Metrics::Metrics() : store_(std::make_unique<Store>()) {}

Metrics::~Metrics() = default;

void Metrics::SetDetail(MetricsDetail detail) {
  std::lock_guard lock(store_->mu);
  store_->detail = detail;
}

void Metrics::SetDatabases(const std::vector<ResolvedDatabase>& dbs) {
  // Outside the lock: JobsFor builds the job objects.
  std::map<std::string, std::vector<std::string>> tasks;
  for (const ResolvedDatabase& db : dbs) {
    auto& names = tasks[db.name];
    for (const ScheduledJob& sj : JobsFor(db)) names.push_back(sj.job->name());
  }
  std::lock_guard lock(store_->mu);
  for (auto it = store_->dbs.begin(); it != store_->dbs.end();) {
    it = tasks.count(it->first) ? std::next(it) : store_->dbs.erase(it);
  }
  for (const auto& [db, names] : tasks) {
    DbMetrics& m = store_->dbs[db];
    for (const std::string& task : names) {
      m.tasks[task].skips.try_emplace("busy", 0);
      store_->by_task.try_emplace(task);
      for (size_t s = 0; s < kDbSeriesCount; ++s) {
        const char* by = kDbFamilies[s].declared_by;
        if (by != nullptr && task == by && !m.values[s]) m.values[s] = 0;
      }
    }
  }
}

void Metrics::Record(const ResolvedDatabase& db, const JobOutcome& out) {
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double seconds = static_cast<double>(out.duration_ms) / 1000.0;
  std::lock_guard lock(store_->mu);
  DbMetrics& m = store_->dbs[db.name];
  TaskSeries& task = m.tasks[out.job];
  task.runs += 1;
  task.skips.try_emplace("busy", 0);
  if (!out.skip_reason.empty())
    task.skips[out.skip_reason] += 1;
  else if (!out.error.ok() || out.status == HealthStatus::kCritical)
    task.failures += 1;
  task.duration.Observe(seconds);
  store_->by_task[out.job].Observe(seconds);
  if (out.error.ok() && out.status != HealthStatus::kCritical) task.last_success = now;

  auto set = [&](DbSeries s, double v) { m.values[s] = v; };
  auto add = [&](DbSeries s, double v) { m.values[s] = m.values[s].value_or(0) + v; };
  for (const auto* rows : {&out.gate_checks, &out.report.checks}) {
    for (const CheckRow& row : *rows) m.health[row.check_type] = static_cast<int>(row.status);
  }
  const JobFigures& f = out.report.figures;
  if (f.db_bytes) set(kSize, double(*f.db_bytes));
  if (f.freelist_count) set(kFreePages, double(*f.freelist_count));
  if (f.wal_bytes) set(kWal, double(*f.wal_bytes));
  if (f.max_lock_hold_ms) set(kLockHold, *f.max_lock_hold_ms / 1000.0);
  if (f.wal_pin_age_seconds) set(kWalPinAge, double(*f.wal_pin_age_seconds));
  if (f.wal_frames_not_checkpointed) set(kWalNotCheckpointed, double(*f.wal_frames_not_checkpointed));
  if (f.wal_unreset_seconds) set(kWalUnreset, double(*f.wal_unreset_seconds));
  if (f.pages_freed > 0) add(kPagesFreed, double(f.pages_freed));
  if (f.rows_requeued > 0) add(kRequeued, double(f.rows_requeued));
  if (f.rows_dead > 0) add(kDead, double(f.rows_dead));
  if (f.rows_purged > 0) add(kPurged, double(f.rows_purged));
  if (f.rows_archived > 0) add(kArchived, double(f.rows_archived));
  if (f.backups_deleted > 0) add(kBackupsDeleted, double(f.backups_deleted));
}

void Metrics::SetTaskRunning(const std::string& db, const std::string& task, bool running) {
  std::lock_guard lock(store_->mu);
  auto it = store_->dbs.find(db);
  if (it == store_->dbs.end()) return;  // dropped meanwhile: no stale series
  it->second.tasks[task].running = running;
}

void Metrics::SetDatabasesMaintained(size_t count) {
  std::lock_guard lock(store_->mu);
  store_->databases = static_cast<double>(count);
}

void Metrics::SetReady(bool ready) {
  std::lock_guard lock(store_->mu);
  store_->ready = ready ? 1 : 0;
}

std::string Metrics::Exposition() const {
  std::lock_guard lock(store_->mu);
  const auto& dbs = store_->dbs;
  std::string out;
  out.reserve(store_->last_size + store_->last_size / 8);
  bool any_task = false;
  for (const auto& [name, m] : dbs) any_task = any_task || !m.tasks.empty();

  // Per (db, task) counters and gauges.
  struct TaskFamily {
    const char* name;
    const char* type;
    const char* help;
    std::optional<double> (*value)(const TaskSeries&);
  };
  static const TaskFamily kTaskFamilies[] = {
      {"sqlite_maintd_job_runs_total", "counter", "Job runs (skipped runs included)",
       [](const TaskSeries& t) -> std::optional<double> { return t.runs; }},
      {"sqlite_maintd_job_failures_total", "counter", "Job runs that failed (critical)",
       [](const TaskSeries& t) -> std::optional<double> { return t.failures; }},
      {"sqlite_maintd_job_last_success_timestamp_seconds", "gauge",
       "Unix time in seconds of the last successful run of a job",
       [](const TaskSeries& t) { return t.last_success; }},
      {"sqlite_maintd_task_running", "gauge", "1 while the job runs on the database, else 0",
       [](const TaskSeries& t) -> std::optional<double> { return t.running ? 1 : 0; }},
  };
  for (const TaskFamily& f : kTaskFamilies) {
    bool header = false;
    for (const auto& [db, m] : dbs) {
      for (const auto& [task, series] : m.tasks) {
        std::optional<double> v = f.value(series);
        if (!v) continue;
        if (!header) AppendHeader(out, f.name, f.type, f.help);
        header = true;
        AppendTaskSample(out, f.name, db, task, "", *v);
      }
    }
  }

  // Skips by reason: busy, corrupt, refused (the runner's) and the jobs' own (nothing to do).
  if (any_task) {
    AppendHeader(out, "sqlite_maintd_job_skips_total", "counter",
                 "Job runs skipped, by reason (busy, corrupt, refused, or the job's own: "
                 "nothing to do)");
  }
  for (const auto& [db, m] : dbs) {
    for (const auto& [task, series] : m.tasks) {
      for (const auto& [reason, count] : series.skips) {
        std::string label = ",reason=";
        AppendLabelValue(label, reason);
        AppendTaskSample(out, "sqlite_maintd_job_skips_total", db, task, label.c_str(), count);
      }
    }
  }

  if (store_->detail == MetricsDetail::kFull && any_task) {
    AppendHeader(out, "sqlite_maintd_job_duration_seconds", "histogram",
                 "Duration of job runs in seconds");
    for (const auto& [db, m] : dbs) {
      for (const auto& [task, series] : m.tasks) {
        AppendHistogram(out, "sqlite_maintd_job_duration_seconds", TaskLabels(&db, task),
                        series.duration);
      }
    }
  } else if (store_->detail == MetricsDetail::kSummary && !store_->by_task.empty()) {
    AppendHeader(out, "sqlite_maintd_job_duration_seconds", "histogram",
                 "Duration of job runs in seconds, over all databases (http.metrics: summary)");
    for (const auto& [task, h] : store_->by_task) {
      AppendHistogram(out, "sqlite_maintd_job_duration_seconds", TaskLabels(nullptr, task), h);
    }
  }

  // Per-database figures from the reports.
  for (size_t s = 0; s < kDbSeriesCount; ++s) {
    bool header = false;
    for (const auto& [db, m] : dbs) {
      if (!m.values[s]) continue;
      if (!header) AppendHeader(out, kDbFamilies[s].name, kDbFamilies[s].type, kDbFamilies[s].help);
      header = true;
      out += kDbFamilies[s].name;
      out += "{db=";
      AppendLabelValue(out, db);
      out += "} ";
      AppendNumber(out, *m.values[s]);
      out += '\n';
    }
  }

  bool header = false;
  for (const auto& [db, m] : dbs) {
    for (const auto& [check, status] : m.health) {
      if (!header) {
        AppendHeader(out, "sqlite_maintd_health_status", "gauge",
                     "Last status of a check: 0 healthy, 1 warning, 2 critical");
      }
      header = true;
      out += "sqlite_maintd_health_status{check=";
      AppendLabelValue(out, check);
      out += ",db=";
      AppendLabelValue(out, db);
      out += "} ";
      AppendNumber(out, status);
      out += '\n';
    }
  }

  auto plain = [&](const char* name, const char* help, const std::optional<double>& v) {
    if (!v) return;
    AppendHeader(out, name, "gauge", help);
    AppendPlain(out, name, *v);
  };
  plain("sqlite_maintd_databases", "Databases maintained", store_->databases);
  plain("sqlite_maintd_ready", "1 when /readyz answers 200", store_->ready);
  AppendHeader(out, "sqlite_maintd_build_info", "gauge",
               "Always 1; the labels name the daemon's version and the SQLite library it runs");
  out += "sqlite_maintd_build_info{sqlite_version=";
  AppendLabelValue(out, SqliteVersionText());
  out += ",version=";
  AppendLabelValue(out, MAINTD_VERSION);
  out += "} 1\n";
  AppendProcessMetrics(out);
  store_->last_size = out.size();
  return out;
}

}  // namespace maintd
