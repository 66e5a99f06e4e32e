#pragma once
// How long a full VACUUM of a database will take, so the shutdown starts one only when it
// fits what is left of the deadline (its copy-back phase cannot be interrupted), and
// convert_auto_vacuum: auto converts only when it holds the write lock at most
// max_full_vacuum_stall (convert.h). A full VACUUM holds the write lock for its whole
// duration, so the predicted duration is the predicted stall of the application's writers.
//
// The work of a full VACUUM is proportional to the live data it rewrites:
// (page_count - freelist_count) x page_size. Every full VACUUM run records its throughput
// as a sqlite_performance_metrics row `vacuum.full_rewritten_bytes` (unit bytes, context
// {"duration_ms": D}); the prediction uses the slowest of the last kPredictSamples runs.
// Without such rows it falls back to the completed `full` rows of sqlite_vacuum_log
// (read directly): bytes_freed / duration_ms understates the throughput, so the
// prediction errs long. Without any history: kDefaultFullVacuumBytesPerSecond, about 10x
// slower than measured on a small VM, so an unknown database is never started late.

#include <cstdint>
#include <string>
#include <vector>

#include "lib/core/clock.h"
#include "lib/journal/journal.h"

namespace maintd {

constexpr double kDefaultFullVacuumBytesPerSecond = 16.0 * 1024 * 1024;
constexpr int kPredictSamples = 5;
constexpr char kFullVacuumRewrittenMetric[] = "vacuum.full_rewritten_bytes";
// Margin on top of the estimate: safety factor and fixed cost (open, checkpoint).
constexpr double kPredictSafetyFactor = 1.5;
constexpr Millis kPredictFixedCost{250};

struct FullVacuumPrediction {
  Millis duration{0};  // including the margin
  double bytes_per_second = kDefaultFullVacuumBytesPerSecond;
  int samples = 0;                 // past runs used; 0 = the default rate
  std::string source = "default";  // "metrics" | "vacuum_log" | "default"
};

// `live_bytes`: (page_count - freelist_count) x page_size. `journal` may be null (no
// history). Read-only; a journal read error falls back to the default.
FullVacuumPrediction PredictFullVacuum(Journal* journal, int64_t live_bytes);
// The same reading the journal tables through `conn` (rows of `db_path`): for a read-only
// job, whose runner opens no Journal, on the database itself (journal: target). Tables
// that are not there (a central journal) give the default rate.
FullVacuumPrediction PredictFullVacuum(Connection* conn, const std::string& db_path,
                                       int64_t live_bytes);
// `rate`'s bytes_per_second (and source, samples) applied to `live_bytes`, with the margin.
FullVacuumPrediction PredictFullVacuumAtRate(const FullVacuumPrediction& rate,
                                             int64_t live_bytes);

// The metric row that records one completed full VACUUM for future predictions.
MetricRow FullVacuumRateMetric(int64_t live_bytes, int64_t duration_ms);

}  // namespace maintd
