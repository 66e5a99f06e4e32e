#include "lib/jobs/checkpoint.h"

#include <sqlite3.h>

#include <algorithm>

#include "lib/inspect/db_stats.h"

namespace maintd {
namespace {

int SqliteMode(CheckpointMode mode) {
  switch (mode) {
    case CheckpointMode::kFull:
      return SQLITE_CHECKPOINT_FULL;
    case CheckpointMode::kRestart:
      return SQLITE_CHECKPOINT_RESTART;
    case CheckpointMode::kTruncate:
      return SQLITE_CHECKPOINT_TRUNCATE;
    case CheckpointMode::kNone:
    case CheckpointMode::kPassive:
      break;
  }
  return SQLITE_CHECKPOINT_PASSIVE;
}

// Restores a connection's busy timeout when it goes out of scope.
class BusyTimeoutGuard {
 public:
  BusyTimeoutGuard(Connection& conn, Millis temporary) : conn_(conn), saved_(conn.busy_timeout()) {
    conn_.SetBusyTimeout(temporary);
  }
  ~BusyTimeoutGuard() { conn_.SetBusyTimeout(saved_); }
  BusyTimeoutGuard(const BusyTimeoutGuard&) = delete;
  BusyTimeoutGuard& operator=(const BusyTimeoutGuard&) = delete;

 private:
  Connection& conn_;
  Millis saved_;
};

CheckRow SkippedRow(const std::string& why, int64_t duration_ms) {
  return {"checkpoint", HealthStatus::kHealthy, {{"skipped", why}, {"duration_ms", duration_ms}}};
}

class CheckpointJob final : public Job {
 public:
  CheckpointJob(const ResolvedDatabase& db, CheckpointJobOptions options)
      : policy_(db.policy.checkpoint), options_(options) {}
  std::string name() const override { return "checkpoint"; }

  Result<JobReport> Run(JobContext& ctx) override {
    auto start = std::chrono::steady_clock::now();
    JobReport report;
    auto stats = ReadDbStats(ctx.conn());
    if (!stats.ok()) return stats.status();
    const bool asked = options_.by_hand;
    const CheckpointMode configured = options_.mode.value_or(policy_.mode);
    std::string skip;
    if (stats->journal_mode != "wal" && !asked)
      skip = "not in WAL mode";
    else if (stats->litestream && !asked)
      skip = "litestream";
    else if (configured == CheckpointMode::kNone)
      skip = "checkpoint mode none";
    if (!skip.empty()) {
      report.summary = "checkpoint skipped: " + skip;
      report.checks.push_back(SkippedRow(skip, ElapsedMs(start)));
      return report;
    }

    CheckpointMode mode = configured;
    bool escalated = false;
    if (!options_.mode && policy_.truncate_wal_above > 0 && stats->wal_size > policy_.truncate_wal_above &&
        mode != CheckpointMode::kTruncate) {
      mode = CheckpointMode::kTruncate;
      escalated = true;
    }
    // Blocking modes stall writers while they wait: keep the wait short whatever the
    // connection's busy_timeout (which stays in force for everything else), unless the
    // caller chose the wait.
    Millis wait = options_.wait.value_or(std::min(ctx.conn().busy_timeout(), kCheckpointShortWait));
    auto r = RunCheckpoint(ctx.conn(), mode, wait);
    if (!r.ok()) return r.status();

    nlohmann::json details = CheckpointDetails(*r);
    details["configured_mode"] = ToString(configured);
    if (escalated) {
      details["escalated"] = true;
      details["truncate_wal_above"] = policy_.truncate_wal_above;
    }
    if (r->mode_used != CheckpointMode::kPassive) details["wait_ms"] = wait.count();
    HealthStatus status = r->busy ? HealthStatus::kWarning : HealthStatus::kHealthy;
    if (r->busy) details["note"] = "a reader or writer kept the checkpoint from completing";
    report.status = status;
    report.checks.push_back({"checkpoint", status, details});
    report.figures.wal_bytes = r->wal_bytes_after;
    report.metrics.push_back({"checkpoint.duration_ms", double(r->duration_ms), "ms"});
    report.metrics.push_back({"checkpoint.wal_bytes_before", double(r->wal_bytes_before), "bytes"});
    report.metrics.push_back({"checkpoint.wal_bytes_after", double(r->wal_bytes_after), "bytes"});
    report.metrics.push_back({"checkpoint.frames_checkpointed",
                              double(std::max<int64_t>(0, r->checkpointed_frames)), "pages"});
    report.summary = std::string("checkpoint ") + ToString(r->mode_used) +
                     (r->fell_back ? " (gave up, finished as passive)" : "") + ": " +
                     std::to_string(r->checkpointed_frames) + "/" + std::to_string(r->log_frames) +
                     " frames, WAL " + std::to_string(r->wal_bytes_before) + " -> " +
                     std::to_string(r->wal_bytes_after) + " bytes" + (r->busy ? ", busy" : "");
    report.output = "busy=" + std::to_string(r->busy ? 1 : 0) +
                    " log=" + std::to_string(r->log_frames) +
                    " checkpointed=" + std::to_string(r->checkpointed_frames) +
                    " mode=" + ToString(mode) +
                    " wal_bytes_before=" + std::to_string(r->wal_bytes_before) +
                    " wal_bytes_after=" + std::to_string(r->wal_bytes_after) +
                    " duration_ms=" + std::to_string(r->duration_ms);
    return report;
  }

 private:
  CheckpointPolicy policy_;
  CheckpointJobOptions options_;
};

}  // namespace

Result<CheckpointResult> RunCheckpoint(Connection& conn, CheckpointMode mode, Millis wait) {
  if (conn.InTransaction()) {
    return Status::Failed("checkpoint refused: the connection is inside a transaction");
  }
  // A connection that has not read the database yet has not opened the WAL: in 3.40
  // sqlite3_wal_checkpoint_v2 then does nothing and reports -1/-1. One read opens it.
  auto opened = conn.QueryInt("PRAGMA schema_version");
  if (!opened.ok()) return opened.status();
  CheckpointResult result;
  result.mode_used = mode == CheckpointMode::kNone ? CheckpointMode::kPassive : mode;
  const std::string wal_path = conn.path() + "-wal";
  result.wal_bytes_before = FileSize(wal_path);
  auto start = std::chrono::steady_clock::now();
  int log = -1, done = -1;
  int rc;
  if (result.mode_used == CheckpointMode::kPassive) {
    rc = sqlite3_wal_checkpoint_v2(conn.raw(), "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  } else {
    BusyTimeoutGuard guard(conn, wait);
    rc = sqlite3_wal_checkpoint_v2(conn.raw(), "main", SqliteMode(result.mode_used), &log, &done);
  }
  result.duration_ms = ElapsedMs(start);
  if ((rc & 0xff) == SQLITE_BUSY) {
    result.busy = true;
    result.fell_back = result.mode_used != CheckpointMode::kPassive;
  } else if (rc != SQLITE_OK) {
    return conn.Error(rc, std::string("wal_checkpoint(") + ToString(result.mode_used) + ")");
  }
  result.log_frames = log;
  result.checkpointed_frames = done;
  result.wal_bytes_after = FileSize(wal_path);
  return result;
}

nlohmann::json CheckpointDetails(const CheckpointResult& r) {
  return {{"mode", ToString(r.mode_used)},
          {"busy", r.busy},
          {"log_frames", r.log_frames},
          {"checkpointed_frames", r.checkpointed_frames},
          {"wal_bytes_before", r.wal_bytes_before},
          {"wal_bytes_after", r.wal_bytes_after},
          {"duration_ms", r.duration_ms},
          {"fell_back", r.fell_back}};
}

std::shared_ptr<Job> MakeCheckpointJob(const ResolvedDatabase& db, CheckpointJobOptions options) {
  return std::make_shared<CheckpointJob>(db, options);
}

}  // namespace maintd
