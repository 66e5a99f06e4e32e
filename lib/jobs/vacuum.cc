#include "lib/jobs/vacuum.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>

#include "lib/inspect/db_stats.h"
#include "lib/vacuum/busy_timeout_cap.h"
#include "lib/vacuum/predict.h"
#include "lib/vacuum/run.h"

namespace maintd {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr Millis kDeadlineJournalWait{250};

// What one run will do: skip (with a reason) or vacuum with a method.
struct Plan {
  bool skip = false;
  bool refused = false;  // the request cannot be done here: the run fails (kRefused)
  std::string reason;
  HealthStatus status = HealthStatus::kHealthy;
  VacuumMethod method = VacuumMethod::kIncremental;
  bool convert = false;
  nlohmann::json extra = nlohmann::json::object();
};

Plan Skip(std::string reason, HealthStatus status = HealthStatus::kHealthy) {
  Plan p;
  p.skip = true;
  p.reason = std::move(reason);
  p.status = status;
  return p;
}

Plan Vacuum(VacuumMethod method, bool convert = false) {
  Plan p;
  p.method = method;
  p.convert = convert;
  return p;
}

bool Triggered(const VacuumPolicy& p, const DbStats& s) {
  return s.page_count > 0 && s.free_ratio() >= p.trigger_free_ratio &&
         s.freelist_count >= p.min_free_pages;
}

Plan PlanScheduled(const VacuumPolicy& p, const DbStats& s) {
  bool triggered = Triggered(p, s);
  switch (s.auto_vacuum) {
    case 2:
      return triggered ? Vacuum(VacuumMethod::kIncremental) : Skip("below trigger");
    case 0:
      if (p.convert_auto_vacuum) return Vacuum(VacuumMethod::kFull, /*convert=*/true);
      if (!triggered) return Skip("below trigger");
      if (p.full_when_no_auto_vacuum) return Vacuum(VacuumMethod::kFull);
      return Skip(
          "auto_vacuum=none: free pages stay on the freelist and the file never shrinks; set "
          "convert_auto_vacuum (one full VACUUM switches it to incremental) or "
          "full_when_no_auto_vacuum",
          HealthStatus::kWarning);
    default:
      return Skip("auto_vacuum=full: SQLite frees pages at every commit");
  }
}

// A full VACUUM at shutdown only when its predicted duration fits before `deadline`.
Plan FullIfItFits(const JobContext& ctx, const DbStats& s, bool convert) {
  int64_t live = (s.page_count - s.freelist_count) * s.page_size;
  FullVacuumPrediction pred = PredictFullVacuum(ctx.journal, live);
  Millis left = ctx.deadline
                    ? std::chrono::duration_cast<Millis>(*ctx.deadline - SteadyClock::now())
                    : Millis::max();
  nlohmann::json extra = {{"predicted_ms", pred.duration.count()},
                          {"prediction_source", pred.source},
                          {"prediction_samples", pred.samples},
                          {"time_left_ms", ctx.deadline ? left.count() : -1}};
  if (pred.duration > left) {
    Plan skip = Skip("full VACUUM predicted to take " + std::to_string(pred.duration.count()) +
                         " ms, only " + std::to_string(std::max<int64_t>(0, left.count())) +
                         " ms left of the shutdown deadline (its copy-back cannot be interrupted)",
                     HealthStatus::kWarning);
    skip.extra = extra;
    return skip;
  }
  Plan p = Vacuum(VacuumMethod::kFull, convert);
  p.extra = extra;
  return p;
}

Plan PlanShutdown(ShutdownVacuum mode, const JobContext& ctx, const VacuumPolicy& p,
                  const DbStats& s) {
  if (mode == ShutdownVacuum::kNone) return Skip("shutdown vacuum is none");
  bool triggered = Triggered(p, s);
  if (s.auto_vacuum == 0) {
    bool allowed = p.convert_auto_vacuum ||
                   (triggered && (p.full_when_no_auto_vacuum || mode == ShutdownVacuum::kFull));
    if (!allowed) {
      return triggered ? Skip("auto_vacuum=none and no full VACUUM allowed by the policy",
                              HealthStatus::kWarning)
                       : Skip("below trigger");
    }
    return FullIfItFits(ctx, s, /*convert=*/p.convert_auto_vacuum);
  }
  if (s.auto_vacuum != 2) return Skip("auto_vacuum=full: SQLite frees pages at every commit");
  Plan fallback_note;
  if (mode == ShutdownVacuum::kFull && triggered && !s.litestream) {
    Plan full = FullIfItFits(ctx, s, /*convert=*/false);
    if (!full.skip) return full;
    fallback_note = full;  // does not fit: incremental instead
  }
  if (s.freelist_count == 0) return Skip("nothing to free");
  Plan inc = Vacuum(VacuumMethod::kIncremental);
  if (!fallback_note.reason.empty()) {
    inc.extra = fallback_note.extra;
    inc.extra["full_skipped"] = fallback_note.reason;
  }
  return inc;
}

// A `vacuum` command: what its flags and the database call for (was daemon/cmd_vacuum.cc).
Plan PlanCommand(const VacuumCommand& c, const VacuumPolicy& p, const DbStats& s) {
  if (!c.into.empty()) return Vacuum(VacuumMethod::kInto);
  bool none = s.auto_vacuum == 0;
  if (c.method == VacuumCommand::kFull) return Vacuum(VacuumMethod::kFull, none && p.convert_auto_vacuum);
  if (none && c.method == VacuumCommand::kAsPolicyAllows &&
      (p.convert_auto_vacuum || p.full_when_no_auto_vacuum)) {
    return Vacuum(VacuumMethod::kFull, p.convert_auto_vacuum);
  }
  if (none) {
    Plan refused = Skip(
        "auto_vacuum is none on this database: incremental vacuum frees nothing there. Use "
        "--full (a full VACUUM blocks writers while it runs; with convert_auto_vacuum: true it "
        "also switches the database to auto_vacuum=incremental)",
        HealthStatus::kWarning);
    refused.refused = true;
    return refused;
  }
  return Vacuum(VacuumMethod::kIncremental);
}

// The command's output line (CONTRACT.md section 2: pages and bytes freed, duration).
std::string CommandLine(const VacuumRun& run, bool convert) {
  char hold[32];
  std::snprintf(hold, sizeof hold, "%.1f", run.max_lock_hold_ms);
  std::string line = "pages_freed=" + std::to_string(run.pages_freed) +
                     " bytes_freed=" + std::to_string(run.bytes_freed) +
                     " duration_ms=" + std::to_string(run.duration_ms) +
                     " method=" + ToString(run.method);
  if (run.method == VacuumMethod::kIncremental) {
    line += " steps=" + std::to_string(run.steps) + " max_lock_hold_ms=" + hold;
  }
  if (run.method != VacuumMethod::kInto) {
    line += " freelist_before=" + std::to_string(run.freelist_before) +
            " freelist_after=" + std::to_string(run.freelist_after);
  } else {
    line += " copy_bytes=" + std::to_string(run.file_size_after);
  }
  if (convert && run.auto_vacuum_after >= 0) {
    line += std::string(" auto_vacuum=") + AutoVacuumName(run.auto_vacuum_after);
  }
  if (run.checkpoint_busy) line += " checkpoint_busy=1";
  return line;
}

nlohmann::json StatsJson(const DbStats& s, const VacuumPolicy& p) {
  return {{"free_ratio", s.free_ratio()},
          {"freelist_count", s.freelist_count},
          {"page_count", s.page_count},
          {"auto_vacuum", AutoVacuumName(s.auto_vacuum)},
          {"trigger_free_ratio", p.trigger_free_ratio},
          {"min_free_pages", p.min_free_pages}};
}

class VacuumJob final : public Job {
 public:
  VacuumJob(std::optional<ShutdownVacuum> shutdown, std::optional<VacuumCommand> command)
      : shutdown_(shutdown), command_(std::move(command)) {}
  std::string name() const override { return "vacuum"; }
  std::string journal_key() const override { return "vacuum"; }
  JobTraits traits() const override {
    // VACUUM INTO only reads the database (it writes a new file).
    bool into = command_ && !command_->into.empty();
    return {into ? DbAccess::kReadOnly : DbAccess::kWrites};
  }

  Result<JobReport> Run(JobContext& ctx) override {
    auto start = SteadyClock::now();
    const VacuumPolicy& policy = ctx.db.policy.vacuum;
    auto stats = ReadDbStats(ctx.conn());
    if (!stats.ok()) return stats.status();
    Plan plan = shutdown_  ? PlanShutdown(*shutdown_, ctx, policy, *stats)
                : command_ ? PlanCommand(*command_, policy, *stats)
                           : PlanScheduled(policy, *stats);
    if (plan.refused) return Status::Refused(plan.reason);
    if (plan.skip) return Skipped(plan, *stats, policy, start);

    VacuumRequest req;
    req.method = plan.method;
    // vacuum_type (CONTRACT.md section 7): `incremental` when asked for by hand.
    req.log_type = plan.method != VacuumMethod::kIncremental ? "full"
                   : command_                                ? "incremental"
                                                             : "auto";
    if (command_) {
      req.incremental.max_pages = command_->pages;
      req.full.into = command_->into;
    }
    req.incremental.pages_per_step = policy.pages_per_step;
    req.incremental.pause_between_steps = policy.pause_between_steps;
    req.incremental.max_lock_hold = policy.max_lock_hold;
    req.incremental.checkpoint = !stats->litestream;
    req.incremental.deadline = ctx.deadline;
    req.full.convert_to_incremental = plan.convert;
    req.full.min_free_disk_factor = policy.min_free_disk_factor;
    req.full.checkpoint_wait = policy.max_lock_hold;
    bool shutdown_run = shutdown_.has_value() || ctx.trigger == JobTrigger::kShutdown;
    req.interrupted_message =
        shutdown_run ? kShutdownInterruptedMessage : "stopped before completion (stop requested)";
    if (ctx.deadline && ctx.journal != nullptr) {
      // Journal writes of a run under a deadline (this job's rows, then the runner's report
      // through the same Journal) must not outlive it by much: a row left `running` is
      // repaired at the next start.
      ctx.journal->LimitWriteWait(kDeadlineJournalWait, Millis(0));
    }
    std::optional<BusyTimeoutCap> cap;  // a full VACUUM's lock wait ends at the deadline
    if (ctx.deadline && plan.method != VacuumMethod::kIncremental) {
      cap.emplace(ctx.conn(), *ctx.deadline);
    }
    VacuumRun run = ExecuteVacuum(ctx.conn(), ctx.journal, req, ctx.stop, ctx.clock);
    cap.reset();
    if (!run.journal_status.ok()) {
      spdlog::warn("db={} vacuum journal write failed: {}", ctx.db.name,
                   run.journal_status.ToString());
    }
    if (run.status.code() == StatusCode::kRefused) {
      if (command_) return run.status;  // asked for by hand: the command fails (exit 1)
      plan = Skip(run.status.message(), HealthStatus::kWarning);
      return Skipped(plan, *stats, policy, start);
    }
    if (run.status.busy()) return run.status;
    JobReport report;
    if (run.method != VacuumMethod::kInto) report.metrics = run.Metrics(req.log_type);
    if (run.started) report.output = CommandLine(run, plan.convert);
    report.figures.pages_freed = run.pages_freed;
    if (run.method != VacuumMethod::kInto) {
      report.figures.freelist_count = run.freelist_after;
      report.figures.max_lock_hold_ms = run.max_lock_hold_ms;
    }
    std::string what = plan.convert ? "converted to auto_vacuum=incremental: " : "";
    report.summary = std::string(ToString(run.method)) + " vacuum " + what + run.Summary();
    if (run.status.code() == StatusCode::kInterrupted) {
      report.status = HealthStatus::kWarning;
      report.summary += "; " + req.interrupted_message;
    } else if (!run.status.ok()) {
      return run.status;
    }
    if (plan.extra.contains("full_skipped")) {
      report.summary +=
          " (instead of a full VACUUM: " + plan.extra["full_skipped"].get<std::string>() + ")";
    }
    nlohmann::json details = run.Details();
    details["vacuum_type"] = req.log_type;
    if (run.log_id > 0) details["vacuum_log_id"] = run.log_id;
    details["freelist_count"] = run.freelist_after;
    if (plan.convert) details["converted"] = true;
    if (shutdown_run) details["trigger"] = "shutdown";
    if (run.status.code() == StatusCode::kInterrupted) {
      details["stopped"] = req.interrupted_message;
    }
    for (auto& [k, v] : plan.extra.items()) details[k] = v;
    report.checks.push_back({"vacuum", report.status, details});
    return report;
  }

 private:
  static JobReport Skipped(const Plan& plan, const DbStats& s, const VacuumPolicy& p,
                           SteadyClock::time_point start) {
    JobReport report;
    report.status = plan.status;
    nlohmann::json details = StatsJson(s, p);
    details["skipped"] = plan.reason;
    for (auto& [k, v] : plan.extra.items()) details[k] = v;
    details["duration_ms"] = ElapsedMs(start);
    report.checks.push_back({"vacuum", plan.status, details});
    report.figures.freelist_count = s.freelist_count;
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.3f", s.free_ratio());
    report.summary = "vacuum skipped: " + plan.reason + " (free ratio " + ratio + ", " +
                     std::to_string(s.freelist_count) + " free pages)";
    return report;
  }

  std::optional<ShutdownVacuum> shutdown_;
  std::optional<VacuumCommand> command_;
};

}  // namespace

std::shared_ptr<Job> MakeVacuumJob(const ResolvedDatabase&) {
  return std::make_shared<VacuumJob>(std::nullopt, std::nullopt);
}

std::shared_ptr<Job> MakeVacuumCommandJob(const ResolvedDatabase&, VacuumCommand command) {
  return std::make_shared<VacuumJob>(std::nullopt, std::move(command));
}

std::shared_ptr<Job> MakeShutdownVacuumJob(const ResolvedDatabase&, ShutdownVacuum mode) {
  return std::make_shared<VacuumJob>(mode, std::nullopt);
}

}  // namespace maintd
