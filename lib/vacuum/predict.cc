#include "lib/vacuum/predict.h"

#include <algorithm>
#include <cmath>

#include "lib/sqlite/statement.h"

namespace maintd {
namespace {

// Throughputs (bytes/s) of the last full runs from the metrics table; empty on error.
std::vector<double> RatesFromMetrics(Journal& journal) {
  std::vector<double> rates;
  auto stmt = journal.connection().Prepare(
      "SELECT metric_value, context FROM sqlite_performance_metrics "
      "WHERE db_path=?1 AND metric_name=?2 ORDER BY id DESC LIMIT ?3");
  if (!stmt.ok()) return rates;
  stmt->Bind(1, journal.db_path())
      .Bind(2, kFullVacuumRewrittenMetric)
      .Bind(3, static_cast<int64_t>(kPredictSamples));
  while (true) {
    auto row = stmt->Step();
    if (!row.ok() || !*row) break;
    double bytes = stmt->Double(0);
    auto ctx = nlohmann::json::parse(stmt->Text(1), nullptr, false);
    if (ctx.is_discarded() || !ctx.is_object() || !ctx.contains("duration_ms") ||
        !ctx["duration_ms"].is_number()) {
      continue;
    }
    double ms = std::max(1.0, ctx["duration_ms"].get<double>());
    if (bytes > 0) rates.push_back(bytes * 1000.0 / ms);
  }
  return rates;
}

std::vector<double> RatesFromVacuumLog(Journal& journal) {
  std::vector<double> rates;
  auto past = journal.PastVacuums("full", kPredictSamples);
  if (!past.ok()) return rates;
  for (const PastVacuum& p : *past) {
    if (p.bytes_freed > 0 && p.duration_ms > 0) {
      rates.push_back(static_cast<double>(p.bytes_freed) * 1000.0 / p.duration_ms);
    }
  }
  return rates;
}

}  // namespace

FullVacuumPrediction PredictFullVacuum(Journal* journal, int64_t live_bytes) {
  FullVacuumPrediction p;
  if (journal != nullptr) {
    std::vector<double> rates = RatesFromMetrics(*journal);
    p.source = "metrics";
    if (rates.empty()) {
      rates = RatesFromVacuumLog(*journal);
      p.source = "vacuum_log";
    }
    if (!rates.empty()) {
      p.bytes_per_second = *std::min_element(rates.begin(), rates.end());
      p.samples = static_cast<int>(rates.size());
    } else {
      p.source = "default";
    }
  }
  double seconds = std::max<int64_t>(0, live_bytes) / p.bytes_per_second;
  p.duration = Millis(static_cast<int64_t>(std::ceil(seconds * kPredictSafetyFactor * 1000.0))) +
               kPredictFixedCost;
  return p;
}

MetricRow FullVacuumRateMetric(int64_t live_bytes, int64_t duration_ms) {
  MetricRow m;
  m.name = kFullVacuumRewrittenMetric;
  m.value = static_cast<double>(live_bytes);
  m.unit = "bytes";
  m.context = {{"duration_ms", duration_ms}};
  return m;
}

}  // namespace maintd
