#include "daemon/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <sstream>

namespace maintd {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

struct Metrics::Families {
  Family<Counter>& runs;
  Family<Counter>& failures;
  Family<Counter>& skips;
  Family<Histogram>& duration;
  Family<Gauge>& last_success;
  Family<Gauge>& db_size;
  Family<Gauge>& free_pages;
  Family<Gauge>& wal_size;
  Family<Counter>& pages_freed;
  Family<Counter>& rows_requeued;
  Family<Counter>& rows_dead;
  Family<Counter>& rows_purged;
  Family<Counter>& rows_archived;
  Family<Gauge>& lock_hold;
  Family<Gauge>& health;
  Family<Gauge>& databases;
  Family<Gauge>& ready;
};

namespace {

double Num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return -1;
  return it->get<double>();
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  f_.reset(new Families{
      BuildCounter().Name("sqlite_maintd_job_runs_total").Help("Job runs").Register(r),
      BuildCounter().Name("sqlite_maintd_job_failures_total")
          .Help("Job runs that failed (critical)").Register(r),
      BuildCounter().Name("sqlite_maintd_job_skips_total")
          .Help("Job runs skipped (database busy, suspended or refused)").Register(r),
      BuildHistogram().Name("sqlite_maintd_job_duration_seconds")
          .Help("Duration of job runs").Register(r),
      BuildGauge().Name("sqlite_maintd_job_last_success_timestamp_seconds")
          .Help("Unix time of the last successful run of a job").Register(r),
      BuildGauge().Name("sqlite_maintd_database_size_bytes")
          .Help("Size of the main database file").Register(r),
      BuildGauge().Name("sqlite_maintd_free_pages")
          .Help("Pages on the freelist (PRAGMA freelist_count)").Register(r),
      BuildGauge().Name("sqlite_maintd_wal_size_bytes").Help("Size of the -wal file").Register(r),
      BuildCounter().Name("sqlite_maintd_pages_freed_total")
          .Help("Pages given back to the file system by vacuum").Register(r),
      BuildCounter().Name("sqlite_maintd_rows_requeued_total")
          .Help("Expired leases put back in the queue").Register(r),
      BuildCounter().Name("sqlite_maintd_rows_dead_total")
          .Help("Rows moved to the dead value past max_attempts").Register(r),
      BuildCounter().Name("sqlite_maintd_rows_purged_total")
          .Help("Rows deleted by retention").Register(r),
      BuildCounter().Name("sqlite_maintd_rows_archived_total")
          .Help("Rows copied to the archive by retention").Register(r),
      BuildGauge().Name("sqlite_maintd_max_lock_hold_seconds")
          .Help("Longest write-lock hold of one maintenance step in the last run").Register(r),
      BuildGauge().Name("sqlite_maintd_health_status")
          .Help("Last status of a check: 0 healthy, 1 warning, 2 critical").Register(r),
      BuildGauge().Name("sqlite_maintd_databases").Help("Databases maintained").Register(r),
      BuildGauge().Name("sqlite_maintd_ready").Help("1 when /readyz answers 200").Register(r),
  });
}

Metrics::~Metrics() = default;

void Metrics::Record(const ResolvedDatabase& db, const JobOutcome& out) {
  prometheus::Labels job_labels{{"db", db.name}, {"job", out.job}};
  prometheus::Labels db_labels{{"db", db.name}};
  f_->runs.Add(job_labels).Increment();
  // Add() creates the series at 0, so failures and skips are exported before the first one.
  auto& skips = f_->skips.Add(job_labels);
  auto& failures = f_->failures.Add(job_labels);
  if (out.skipped) skips.Increment();
  else if (!out.error.ok() || out.status == HealthStatus::kCritical) failures.Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets{
      0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300};
  f_->duration.Add(job_labels, kBuckets).Observe(static_cast<double>(out.duration_ms) / 1000.0);
  if (out.error.ok() && out.status != HealthStatus::kCritical) {
    auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch());
    f_->last_success.Add(job_labels).Set(now.count());
  }
  for (const CheckRow& row : out.report.checks) {
    const auto& d = row.details;
    f_->health.Add({{"db", db.name}, {"check", row.check_type}})
        .Set(static_cast<double>(static_cast<int>(row.status)));
    if (double v = Num(d, "db_bytes"); v >= 0) f_->db_size.Add(db_labels).Set(v);
    if (double v = Num(d, "freelist_count"); v >= 0) f_->free_pages.Add(db_labels).Set(v);
    if (double v = Num(d, "wal_bytes"); v >= 0) f_->wal_size.Add(db_labels).Set(v);
    if (double v = Num(d, "wal_bytes_after"); v >= 0) f_->wal_size.Add(db_labels).Set(v);
    if (double v = Num(d, "pages_freed"); v > 0) f_->pages_freed.Add(db_labels).Increment(v);
    if (double v = Num(d, "requeued"); v > 0) f_->rows_requeued.Add(db_labels).Increment(v);
    if (double v = Num(d, "dead"); v > 0) f_->rows_dead.Add(db_labels).Increment(v);
    if (d.value("dry_run", false) == false) {
      if (double v = Num(d, "deleted"); v > 0) f_->rows_purged.Add(db_labels).Increment(v);
      if (double v = Num(d, "archived"); v > 0) f_->rows_archived.Add(db_labels).Increment(v);
    }
    if (double v = Num(d, "max_lock_hold_ms"); v >= 0) {
      f_->lock_hold.Add(db_labels).Set(v / 1000.0);
    }
  }
}

void Metrics::SetDatabasesMaintained(size_t count) {
  f_->databases.Add({}).Set(static_cast<double>(count));
}

void Metrics::SetReady(bool ready) { f_->ready.Add({}).Set(ready ? 1 : 0); }

std::string Metrics::Exposition() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace maintd
