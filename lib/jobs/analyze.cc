#include "lib/jobs/analyze.h"

#include <algorithm>

#include "lib/sqlite/transaction.h"

namespace maintd {
namespace {

// Extra retry time for BEGIN IMMEDIATE on top of the busy handler (which already waits the
// connection's busy_timeout).
constexpr Millis kMaxBeginRetry{1000};

Result<int64_t> Stat1Rows(Connection& conn) {
  auto exists = conn.QueryInt(
      "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='sqlite_stat1'");
  if (!exists.ok()) return exists.status();
  if (*exists == 0) return int64_t{0};
  return conn.QueryInt("SELECT count(*) FROM sqlite_stat1");
}

Status SetAnalysisLimit(Connection& conn, int64_t limit) {
  return conn.Exec("PRAGMA analysis_limit=" + std::to_string(std::max<int64_t>(0, limit)));
}

class AnalyzeJob final : public Job {
 public:
  explicit AnalyzeJob(AnalyzeJobOptions options) : options_(options) {}
  std::string name() const override { return "analyze"; }
  JobTraits traits() const override {
    JobTraits t;
    t.skips_when_unchanged = true;  // statistics of unchanged tables cannot change
    t.settled_rerun_after = std::chrono::hours(24 * 7);  // daily: a day would be every slot
    return t;
  }
  Result<JobReport> Run(JobContext& ctx) override {
    // One statement: a stop request cannot cut it short; StopToken::Abort() interrupts it
    // (the transaction rolls back).
    const AnalyzePolicy& policy = ctx.db.policy.analyze;  // this run's settings
    auto report = RunAnalyze(ctx.conn(), options_.mode.value_or(policy.mode),
                             options_.analysis_limit.value_or(policy.analysis_limit));
    if (report.ok()) report->settled = true;
    return report;
  }

 private:
  const AnalyzeJobOptions options_;
};

}  // namespace

Result<int64_t> CountUserTables(Connection& conn) {
  return conn.QueryInt(
      "SELECT count(*) FROM sqlite_master WHERE type='table' "
      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
}

Result<JobReport> RunAnalyze(Connection& conn, AnalyzeMode mode, int64_t limit) {
  auto start = std::chrono::steady_clock::now();
  nlohmann::json details = nlohmann::json::object();
  AnalyzeMode used = mode;
  if (mode == AnalyzeMode::kOptimize && SqliteVersionNumber() < kOptimizeMinVersion) {
    used = AnalyzeMode::kLimited;
    details["requested_mode"] = ToString(mode);
    details["fallback"] =
        "PRAGMA optimize needs SQLite 3.46 to analyze from a fresh connection; linked " +
        std::to_string(SqliteVersionNumber()) + ": ran limited ANALYZE instead";
  }
  int64_t effective_limit = used == AnalyzeMode::kLimited ? std::max<int64_t>(0, limit) : 0;

  auto saved_limit = conn.QueryInt("PRAGMA analysis_limit");
  if (!saved_limit.ok()) return saved_limit.status();
  auto tables = CountUserTables(conn);
  if (!tables.ok()) return tables.status();

  Status run_status;
  {
    auto txn = Transaction::BeginImmediate(conn, std::min(conn.busy_timeout(), kMaxBeginRetry));
    if (!txn.ok()) return txn.status();
    // optimize (3.46+) picks its own limit when analysis_limit is 0.
    run_status = SetAnalysisLimit(conn, used == AnalyzeMode::kOptimize ? 0 : effective_limit);
    if (run_status.ok()) {
      run_status =
          conn.Exec(used == AnalyzeMode::kOptimize ? "PRAGMA optimize=0x10002" : "ANALYZE");
    }
    if (run_status.ok()) run_status = txn->Commit();
    // On error the Transaction destructor rolls back.
  }
  Status restore = SetAnalysisLimit(conn, *saved_limit);
  MAINTD_RETURN_IF_ERROR(run_status);
  MAINTD_RETURN_IF_ERROR(restore);

  auto stat1 = Stat1Rows(conn);
  int64_t duration = ElapsedMs(start);
  details["mode"] = ToString(used);
  details["analysis_limit"] = effective_limit;
  details["tables"] = *tables;
  if (stat1.ok()) details["stat1_rows"] = *stat1;
  details["duration_ms"] = duration;

  JobReport report;
  report.checks.push_back({"analyze", HealthStatus::kHealthy, details});
  report.metrics.push_back({"analyze.duration_ms", double(duration), "ms"});
  if (stat1.ok()) report.metrics.push_back({"analyze.stat1_rows", double(*stat1), "rows"});
  report.summary =
      std::string("analyze ") + ToString(used) +
      (used == AnalyzeMode::kLimited ? " (analysis_limit " + std::to_string(effective_limit) + ")"
                                     : "") +
      (details.contains("fallback") ? " [optimize unavailable]" : "") + ": " +
      std::to_string(*tables) + " tables in " + std::to_string(duration) + " ms";
  return report;
}

std::shared_ptr<Job> MakeAnalyzeJob(const ResolvedDatabase&, AnalyzeJobOptions options) {
  // Keeps no state (the policy comes with each run): the scheduled job is one instance for
  // every database.
  if (!options.mode && !options.analysis_limit) {
    static const std::shared_ptr<Job> shared = std::make_shared<AnalyzeJob>(options);
    return shared;
  }
  return std::make_shared<AnalyzeJob>(options);
}

}  // namespace maintd
