#include "lib/vacuum/predict.h"

#include <algorithm>
#include <cmath>

#include "lib/sqlite/statement.h"

namespace maintd {
namespace {

// Throughputs (bytes/s) of the last full runs from the metrics table; empty on error (or
// when the table does not exist).
std::vector<double> RatesFromMetrics(Connection& conn, const std::string& db_path) {
  std::vector<double> rates;
  auto stmt = conn.Prepare(
      "SELECT metric_value, context FROM sqlite_performance_metrics "
      "WHERE db_path=?1 AND metric_name=?2 ORDER BY id DESC LIMIT ?3");
  if (!stmt.ok()) return rates;
  stmt->Bind(1, db_path)
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

// The same from the completed `full` rows of sqlite_vacuum_log.
std::vector<double> RatesFromVacuumLog(Connection& conn, const std::string& db_path) {
  std::vector<double> rates;
  auto stmt = conn.Prepare(
      "SELECT bytes_freed, duration_ms FROM sqlite_vacuum_log WHERE db_path=?1 AND "
      "vacuum_type='full' AND status='completed' ORDER BY id DESC LIMIT ?2");
  if (!stmt.ok()) return rates;
  stmt->Bind(1, db_path).Bind(2, static_cast<int64_t>(kPredictSamples));
  while (true) {
    auto row = stmt->Step();
    if (!row.ok() || !*row) break;
    int64_t bytes = stmt->Int(0), ms = stmt->Int(1);
    if (bytes > 0 && ms > 0) rates.push_back(static_cast<double>(bytes) * 1000.0 / ms);
  }
  return rates;
}

}  // namespace

FullVacuumPrediction PredictFullVacuumAtRate(const FullVacuumPrediction& rate,
                                             int64_t live_bytes) {
  FullVacuumPrediction p = rate;
  double seconds = std::max<int64_t>(0, live_bytes) / p.bytes_per_second;
  p.duration = Millis(static_cast<int64_t>(std::ceil(seconds * kPredictSafetyFactor * 1000.0))) +
               kPredictFixedCost;
  return p;
}

FullVacuumPrediction PredictFullVacuum(Connection* conn, const std::string& db_path,
                                       int64_t live_bytes) {
  FullVacuumPrediction p;
  if (conn != nullptr) {
    std::vector<double> rates = RatesFromMetrics(*conn, db_path);
    p.source = "metrics";
    if (rates.empty()) {
      rates = RatesFromVacuumLog(*conn, db_path);
      p.source = "vacuum_log";
    }
    if (!rates.empty()) {
      p.bytes_per_second = *std::min_element(rates.begin(), rates.end());
      p.samples = static_cast<int>(rates.size());
    } else {
      p.source = "default";
    }
  }
  return PredictFullVacuumAtRate(p, live_bytes);
}

FullVacuumPrediction PredictFullVacuum(Journal* journal, int64_t live_bytes) {
  if (journal == nullptr) return PredictFullVacuum(nullptr, "", live_bytes);
  return PredictFullVacuum(&journal->connection(), journal->db_path(), live_bytes);
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
