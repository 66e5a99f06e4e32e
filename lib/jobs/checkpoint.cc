#include "lib/jobs/checkpoint.h"

#include <algorithm>

#include "lib/inspect/db_stats.h"
#include "lib/jobs/wal_pin.h"

namespace maintd {
namespace {

CheckRow SkippedRow(const std::string& why, int64_t duration_ms) {
  return {"checkpoint", HealthStatus::kHealthy, {{"skipped", why}, {"duration_ms", duration_ms}}};
}

class CheckpointJob final : public Job {
 public:
  explicit CheckpointJob(CheckpointJobOptions options) : options_(options) {}
  std::string name() const override { return "checkpoint"; }
  JobTraits traits() const override {
    JobTraits t;
    t.skips_when_unchanged = true;
    return t;
  }
  // No frame in the WAL (absent, or its header only): nothing to checkpoint.
  bool NothingToDo(const ResolvedDatabase&, const FileSignature& sig) const override {
    return !sig.WalHasFrames();
  }

  Result<JobReport> Run(JobContext& ctx) override {
    auto start = std::chrono::steady_clock::now();
    JobReport report;
    auto stats = ReadDbStats(ctx.conn());
    if (!stats.ok()) return stats.status();
    const CheckpointPolicy& policy = ctx.db.policy.checkpoint;  // this run's settings
    const bool asked = options_.by_hand;
    const CheckpointMode configured = options_.mode.value_or(policy.mode);
    std::string skip, code;
    if (stats->journal_mode != "wal" && !asked) {
      skip = "not in WAL mode";
      code = "not_wal";
    } else if (stats->litestream && !asked) {
      skip = "litestream";
      code = "litestream";
    } else if (configured == CheckpointMode::kNone) {
      skip = "checkpoint mode none";
      code = "disabled";
    }
    if (!skip.empty()) {
      report.skip_reason = code;
      report.summary = "checkpoint skipped: " + skip;
      report.checks.push_back(SkippedRow(skip, ElapsedMs(start)));
      report.settled = true;  // stays so until the file changes (e.g. to WAL mode)
      return report;
    }

    // Who holds the WAL before: a TRUNCATE that readers block could only wait and give up,
    // stalling writers meanwhile.
    std::optional<WalPinView> before;
    if (stats->journal_mode == "wal") {
      auto pins = ObserveWalPins(ctx);
      if (!pins.ok()) return pins.status();
      before = std::move(pins).value();
    }
    const bool reset_blocked = before && ResetBlocked(before->probe.wal);
    CheckpointMode mode = configured;
    bool escalated = false, held_back = false;
    if (!options_.mode && policy.truncate_wal_above > 0 &&
        stats->wal_size > policy.truncate_wal_above && mode != CheckpointMode::kTruncate) {
      if (reset_blocked) {
        held_back = true;  // readers hold the log: PASSIVE copies what it can
      } else {
        mode = CheckpointMode::kTruncate;
        escalated = true;
      }
    }
    // Blocking modes stall writers while they wait: keep the wait short whatever the
    // connection's busy_timeout (which stays in force for everything else), unless the
    // caller chose the wait.
    Millis wait = options_.wait.value_or(std::min(ctx.conn().busy_timeout(), kCheckpointShortWait));
    auto r = RunCheckpoint(ctx.conn(), mode, wait);
    if (!r.ok()) return r.status();

    nlohmann::json details = CheckpointDetails(*r);
    details["configured_mode"] = ToString(configured);
    if (escalated || held_back) {
      details["escalated"] = escalated;
      details["truncate_wal_above"] = policy.truncate_wal_above;
    }
    // The wal-index after the checkpoint: what is left, whether the log could be reset, and
    // who holds it (the same readers as before, or fewer).
    std::string waiting_for;
    if (before) {
      auto after = ObserveWalPins(ctx);
      const WalPinView& view = after.ok() ? *after : *before;
      details["wal"] = WalFigures(view);
      details["wal"]["log_reset"] = view.seen.reset_since_last;
      SetWalFigures(report.figures, view);
      if (!view.probe.readers.empty()) {
        const WalReader& oldest = view.probe.readers[view.seen.oldest];
        waiting_for = DescribeReader(oldest) + ", pinned " +
                      std::to_string(view.seen.oldest_seconds) + "s at frame " +
                      std::to_string(oldest.read_mark);
        if (view.probe.readers.size() > 1) {
          waiting_for += " and " + std::to_string(view.probe.readers.size() - 1) + " more";
        }
        details["waiting_for"] = waiting_for;
      }
      if (held_back) {
        details["note"] =
            "not escalated to truncate: readers hold the log, a TRUNCATE could "
            "only wait for them while writers stall";
      }
    }
    if (r->mode_used != CheckpointMode::kPassive) details["wait_ms"] = wait.count();
    HealthStatus status = r->busy || held_back ? HealthStatus::kWarning : HealthStatus::kHealthy;
    if (r->busy && !details.contains("note")) {
      details["note"] = "a reader or writer kept the checkpoint from completing";
    }
    report.status = status;
    // Settled: every frame of the log is in the database; until someone writes, a run
    // would find the same.
    report.settled = !r->busy && !held_back && r->checkpointed_frames == r->log_frames;
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
                     std::to_string(r->wal_bytes_after) + " bytes" + (r->busy ? ", busy" : "") +
                     (waiting_for.empty() ? "" : ", waiting for " + waiting_for);
    report.output =
        "busy=" + std::to_string(r->busy ? 1 : 0) + " log=" + std::to_string(r->log_frames) +
        " checkpointed=" + std::to_string(r->checkpointed_frames) + " mode=" + ToString(mode) +
        " wal_bytes_before=" + std::to_string(r->wal_bytes_before) +
        " wal_bytes_after=" + std::to_string(r->wal_bytes_after) +
        " duration_ms=" + std::to_string(r->duration_ms);
    return report;
  }

 private:
  const CheckpointJobOptions options_;
};

}  // namespace

std::shared_ptr<Job> MakeCheckpointJob(const ResolvedDatabase&, CheckpointJobOptions options) {
  // Keeps no state (the policy comes with each run): the scheduled job is one instance for
  // every database.
  if (!options.mode && !options.by_hand && !options.wait) {
    static const std::shared_ptr<Job> shared = std::make_shared<CheckpointJob>(options);
    return shared;
  }
  return std::make_shared<CheckpointJob>(options);
}

}  // namespace maintd
