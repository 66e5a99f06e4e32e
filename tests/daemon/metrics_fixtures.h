#pragma once
// Inputs for the daemon/metrics tests: a database as the resolver gives it, and a job's
// outcome as the runner passes it on (one row, and the job's typed figures: the metrics read
// those, never the JSON details).

#include <string>

#include "daemon/metrics.h"

namespace maintd::test_metrics {

inline ResolvedDatabase Db(const std::string& name) {
  ResolvedDatabase db;
  db.name = name;
  db.path = "/data/" + name + ".db";
  return db;
}

inline JobOutcome Outcome(const std::string& job, int64_t ms, JobFigures figures = {}) {
  JobOutcome out;
  out.job = job;
  out.duration_ms = ms;
  out.report.checks.push_back({job, HealthStatus::kHealthy, nlohmann::json::object()});
  out.report.figures = figures;
  return out;
}

}  // namespace maintd::test_metrics
