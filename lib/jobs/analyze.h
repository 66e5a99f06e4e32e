#pragma once
// The analyze job (CONTRACT.md section 4) and the primitive shared with the CLI `analyze`
// command and the shutdown path.

#include <cstdint>
#include <memory>
#include <optional>

#include "lib/config/config.h"
#include "lib/core/status.h"
#include "lib/jobs/job.h"
#include "lib/sqlite/connection.h"

namespace maintd {

// First SQLite version where `PRAGMA optimize=0x10002` analyzes every table from a fresh
// connection (in 3.40 it only looks at what the same connection's planner used).
inline constexpr int kOptimizeMinVersion = 3046000;

// Runs ANALYZE on `conn` inside one BEGIN IMMEDIATE transaction (retried on BUSY, so the
// busy handler applies; ANALYZE writes sqlite_stat1):
//   kLimited   PRAGMA analysis_limit=`limit`; ANALYZE   (limit 0 = no limit)
//   kFull      ANALYZE with analysis_limit 0
//   kOptimize  PRAGMA optimize=0x10002 on SQLite >= 3.46, else kLimited (the details
//              say so: requested_mode and fallback).
// The connection's previous analysis_limit is restored afterwards. Returns a report with
// one "analyze" row (details: mode, analysis_limit, tables, stat1_rows, duration_ms) and a
// duration metric. Errors: Busy when the write lock could not be had past busy_timeout;
// Interrupted; anything else SQLite reports. On error nothing is committed.
Result<JobReport> RunAnalyze(Connection& conn, AnalyzeMode mode, int64_t limit);

// Count of the application's tables (sqlite_master, type 'table', names not starting with
// "sqlite_"): the `tables` figure of the report.
Result<int64_t> CountUserTables(Connection& conn);

// What the `analyze` command and the shutdown ask for instead of the policy.
struct AnalyzeJobOptions {
  std::optional<AnalyzeMode> mode;           // nullopt: analyze.mode
  std::optional<int64_t> analysis_limit;     // nullopt: analyze.analysis_limit
};

std::shared_ptr<Job> MakeAnalyzeJob(const ResolvedDatabase& db, AnalyzeJobOptions options = {});

}  // namespace maintd
