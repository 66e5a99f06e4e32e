#include "daemon/metrics.h"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>

namespace maintd {

namespace {

// Upper bounds of the duration histogram's buckets, in seconds (+Inf is implicit).
constexpr std::array<double, 11> kBuckets{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300};

struct JobSeries {
  double runs = 0;
  double failures = 0;
  std::map<std::string, double> skips;  // by reason
  std::array<uint64_t, kBuckets.size()> in_bucket{};  // observations per bucket, not cumulative
  uint64_t count = 0;
  double sum = 0;
  std::optional<double> last_success;
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
};

constexpr std::array<DbFamily, kDbSeriesCount> kDbFamilies{{
    {"sqlite_maintd_database_size_bytes", "gauge", "Size of the main database file"},
    {"sqlite_maintd_free_pages", "gauge", "Pages on the freelist (PRAGMA freelist_count)"},
    {"sqlite_maintd_wal_size_bytes", "gauge", "Size of the -wal file"},
    {"sqlite_maintd_pages_freed_total", "counter", "Pages given back to the file system by vacuum"},
    {"sqlite_maintd_rows_requeued_total", "counter", "Expired leases put back in the queue"},
    {"sqlite_maintd_rows_dead_total", "counter", "Rows moved to the dead value past max_attempts"},
    {"sqlite_maintd_rows_purged_total", "counter", "Rows deleted by retention"},
    {"sqlite_maintd_rows_archived_total", "counter", "Rows copied to the archive by retention"},
    {"sqlite_maintd_backups_deleted_total", "counter", "Old backups deleted by backup rotation"},
    {"sqlite_maintd_max_lock_hold_seconds", "gauge",
     "Longest write-lock hold of one maintenance step in the last run"},
    {"sqlite_maintd_wal_pin_age_seconds", "gauge",
     "Seconds the oldest reader has pinned the WAL (its read transaction keeps the checkpoint "
     "from copying back or resetting the log); 0 when none"},
    {"sqlite_maintd_wal_frames_not_checkpointed", "gauge",
     "WAL frames (pages) not yet copied back into the database file"},
    {"sqlite_maintd_wal_unreset_seconds", "gauge",
     "Seconds since the WAL was last reset while frames waited to be checkpointed; 0 when none "
     "wait"},
}};

struct DbMetrics {
  std::map<std::string, JobSeries> jobs;  // by job name
  std::map<std::string, int> health;      // by check name: 0 healthy, 1 warning, 2 critical
  std::array<std::optional<double>, kDbSeriesCount> values;
};

void AppendNumber(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    out.append(buf, r.ptr);
  }
}

// A label value between double quotes, escaped as the exposition format requires.
void AppendLabelValue(std::string& out, const std::string& value) {
  out += '"';
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += '"';
}

void AppendHeader(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// name{db="..",job=".."<extra>} value
void AppendDbJobSample(std::string& out, const char* name, const std::string& db,
                       const std::string& job, const char* extra, double value) {
  out += name;
  out += "{db=";
  AppendLabelValue(out, db);
  out += ",job=";
  AppendLabelValue(out, job);
  out += extra;
  out += "} ";
  AppendNumber(out, value);
  out += '\n';
}

}  // namespace

struct Metrics::Store {
  mutable std::mutex mu;
  std::map<std::string, DbMetrics> dbs;  // by db name
  std::optional<double> databases;
  std::optional<double> ready;
  mutable size_t last_size = 0;  // of the previous exposition: the next one reserves it
};

Metrics::Metrics() : store_(std::make_unique<Store>()) {}

Metrics::~Metrics() = default;

void Metrics::Record(const ResolvedDatabase& db, const JobOutcome& out) {
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::lock_guard lock(store_->mu);
  DbMetrics& m = store_->dbs[db.name];
  JobSeries& job = m.jobs[out.job];
  job.runs += 1;
  if (!out.skip_reason.empty())
    job.skips[out.skip_reason] += 1;
  else if (!out.error.ok() || out.status == HealthStatus::kCritical)
    job.failures += 1;
  double seconds = static_cast<double>(out.duration_ms) / 1000.0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++job.in_bucket[i];
      break;
    }
  }
  ++job.count;
  job.sum += seconds;
  if (out.error.ok() && out.status != HealthStatus::kCritical) job.last_success = now;

  auto set = [&](DbSeries s, double v) { m.values[s] = v; };
  auto add = [&](DbSeries s, double v) { m.values[s] = m.values[s].value_or(0) + v; };
  for (const CheckRow& row : out.report.checks) {
    m.health[row.check_type] = static_cast<int>(row.status);
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

void Metrics::SetDatabasesMaintained(size_t count) {
  std::lock_guard lock(store_->mu);
  store_->databases = static_cast<double>(count);
}

void Metrics::SetReady(bool ready) {
  std::lock_guard lock(store_->mu);
  store_->ready = ready ? 1 : 0;
}

void Metrics::RetainDatabases(const std::set<std::string>& names) {
  std::lock_guard lock(store_->mu);
  for (auto it = store_->dbs.begin(); it != store_->dbs.end();) {
    it = names.count(it->first) ? std::next(it) : store_->dbs.erase(it);
  }
}

std::string Metrics::Exposition() const {
  std::lock_guard lock(store_->mu);
  const auto& dbs = store_->dbs;
  std::string out;
  out.reserve(store_->last_size + store_->last_size / 8);
  bool any_job = false;
  for (const auto& [name, m] : dbs) any_job = any_job || !m.jobs.empty();

  // Per (db, job) counters and gauges.
  struct JobFamily {
    const char* name;
    const char* type;
    const char* help;
    std::optional<double> (*value)(const JobSeries&);
  };
  static const JobFamily kJobFamilies[] = {
      {"sqlite_maintd_job_runs_total", "counter", "Job runs",
       [](const JobSeries& j) -> std::optional<double> { return j.runs; }},
      {"sqlite_maintd_job_failures_total", "counter", "Job runs that failed (critical)",
       [](const JobSeries& j) -> std::optional<double> { return j.failures; }},
      {"sqlite_maintd_job_last_success_timestamp_seconds", "gauge",
       "Unix time of the last successful run of a job",
       [](const JobSeries& j) { return j.last_success; }},
  };
  for (const JobFamily& f : kJobFamilies) {
    bool header = false;
    for (const auto& [db, m] : dbs) {
      for (const auto& [job, series] : m.jobs) {
        std::optional<double> v = f.value(series);
        if (!v) continue;
        if (!header) AppendHeader(out, f.name, f.type, f.help);
        header = true;
        AppendDbJobSample(out, f.name, db, job, "", *v);
      }
    }
  }

  // Skips by reason: busy, corrupt, refused (the runner's) and the jobs' own (nothing to do).
  bool skips_header = false;
  for (const auto& [db, m] : dbs) {
    for (const auto& [job, series] : m.jobs) {
      for (const auto& [reason, count] : series.skips) {
        if (!skips_header) {
          AppendHeader(out, "sqlite_maintd_job_skips_total", "counter",
                       "Job runs skipped, by reason (busy, corrupt, refused, or the job's own: "
                       "nothing to do)");
          skips_header = true;
        }
        std::string label = ",reason=";
        AppendLabelValue(label, reason);
        AppendDbJobSample(out, "sqlite_maintd_job_skips_total", db, job, label.c_str(), count);
      }
    }
  }

  if (any_job) {
    AppendHeader(out, "sqlite_maintd_job_duration_seconds", "histogram", "Duration of job runs");
    for (const auto& [db, m] : dbs) {
      for (const auto& [job, series] : m.jobs) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i < kBuckets.size(); ++i) {
          cumulative += series.in_bucket[i];
          std::string le = ",le=\"";
          AppendNumber(le, kBuckets[i]);
          le += '"';
          AppendDbJobSample(out, "sqlite_maintd_job_duration_seconds_bucket", db, job, le.c_str(),
                            static_cast<double>(cumulative));
        }
        AppendDbJobSample(out, "sqlite_maintd_job_duration_seconds_bucket", db, job, ",le=\"+Inf\"",
                          static_cast<double>(series.count));
        AppendDbJobSample(out, "sqlite_maintd_job_duration_seconds_sum", db, job, "", series.sum);
        AppendDbJobSample(out, "sqlite_maintd_job_duration_seconds_count", db, job, "",
                          static_cast<double>(series.count));
      }
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
      out += "sqlite_maintd_health_status{check=";  // labels in name order, as prometheus-cpp
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
    out += name;
    out += ' ';
    AppendNumber(out, *v);
    out += '\n';
  };
  plain("sqlite_maintd_databases", "Databases maintained", store_->databases);
  plain("sqlite_maintd_ready", "1 when /readyz answers 200", store_->ready);
  store_->last_size = out.size();
  return out;
}

}  // namespace maintd
