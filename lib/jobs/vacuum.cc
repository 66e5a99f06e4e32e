#include "lib/jobs/vacuum.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>

#include "lib/inspect/db_stats.h"
#include "lib/jobs/state_change_log.h"
#include "lib/jobs/vacuum_plan.h"
#include "lib/vacuum/busy_timeout_cap.h"
#include "lib/vacuum/convert.h"
#include "lib/vacuum/predict.h"
#include "lib/vacuum/run.h"

namespace maintd {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr Millis kDeadlineJournalWait{250};

using Plan = VacuumPlan;

// The conversion decision of an auto_vacuum=NONE database (convert.h), with the prediction
// from this database's journal. Also the prediction for a shutdown's full VACUUM of an
// INCREMENTAL database. Other runs need neither: a default decision.
ConvertDecision Decide(const JobContext& ctx, const VacuumPolicy& policy, const DbStats& s,
                       std::optional<ShutdownVacuum> shutdown, bool command) {
  if (s.auto_vacuum != 0 && shutdown != ShutdownVacuum::kFull) return {};
  FullVacuumPrediction pred = PredictFullVacuum(ctx.journal, LiveBytes(s));
  FullVacuumOptions rules_options;
  rules_options.min_free_disk_factor = policy.min_free_disk_factor;
  Status rules = CheckFullVacuumAllowed(ctx.conn().path(), s, rules_options);
  ConvertRequest request;
  if (command) request = {.require_trigger = false, .honour_window = false};
  return DecideConversion(policy, s, pred, rules, ctx.clock.Now(), request);
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
    JobTraits t{into ? DbAccess::kReadOnly : DbAccess::kWrites};
    // The check reads the header's free-page and page counts: the same file, the same
    // decision (the runner skips scheduled runs only).
    t.skips_when_unchanged = true;
    return t;
  }
  // A scheduled check whose database header is current and below the trigger skips
  // without opening it, at first contact too: PlanScheduled() would say "below trigger"
  // (or "auto_vacuum=full") from the same figures. Not provable from the files when
  // convert_auto_vacuum is true on an auto_vacuum=none database (its convert_at window may
  // convert below the trigger).
  bool NothingToDo(const ResolvedDatabase& db, const FileSignature& sig) const override {
    if (shutdown_ || command_ || !sig.HeaderIsCurrent() || sig.header->page_size == 0) {
      return false;
    }
    // A standing auto_vacuum=none condition is cleared (and logged so) by a real run only.
    if (state_.Since(kNoneConditionKey)) return false;
    const DbHeader& h = *sig.header;
    DbStats s;
    s.page_size = h.page_size;
    s.page_count = h.header_count_valid ? h.header_page_count : h.file_size / h.page_size;
    s.freelist_count = h.freelist_count;
    s.auto_vacuum = h.auto_vacuum;
    const VacuumPolicy& p = db.policy.vacuum;
    if (VacuumTriggered(p, s)) return false;
    return s.auto_vacuum != 0 || p.convert_auto_vacuum != ConvertAutoVacuum::kTrue;
  }

  Result<JobReport> Run(JobContext& ctx) override {
    auto start = SteadyClock::now();
    const VacuumPolicy& policy = ctx.db.policy.vacuum;
    auto stats = ReadDbStats(ctx.conn());
    if (!stats.ok()) return stats.status();
    const std::string& path = ctx.conn().path();
    ConvertDecision conv = Decide(ctx, policy, *stats, shutdown_, command_.has_value());
    Plan plan = shutdown_  ? PlanShutdown(*shutdown_, policy, *stats, conv, TimeLeft(ctx))
                : command_ ? PlanCommand(*command_, policy, *stats, conv, path)
                           : PlanScheduled(policy, *stats, conv, path);
    if (plan.refused) return Status::Refused(plan.reason);
    if (plan.skip) return Skipped(ctx, plan, *stats, policy, start);

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
    req.incremental.progress = ctx.progress;
    req.full.progress = ctx.progress;
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
      nlohmann::json extra = plan.extra;
      plan = SkipPlan(run.status.message(), HealthStatus::kWarning);
      plan.extra = extra;
      if (stats->auto_vacuum == 0) plan.none = RefusedCondition(run.status.message(), path, policy);
      return Skipped(ctx, plan, *stats, policy, start);
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
    report.settled = run.status.ok();  // finished: nothing left until the file changes
    report.checks.push_back({"vacuum", report.status, details});
    if (Scheduled()) {
      state_.LogCleared(kNoneConditionKey, "db=" + ctx.db.name + " vacuum: auto_vacuum=none " +
                                               "condition cleared: " + report.summary);
    }
    return report;
  }

 private:
  // Scheduled and `once` runs (not the shutdown's, not the command's) keep the NONE
  // condition in the state-change log.
  bool Scheduled() const { return !shutdown_ && !command_; }

  static std::optional<Millis> TimeLeft(const JobContext& ctx) {
    if (!ctx.deadline) return std::nullopt;
    return std::chrono::duration_cast<Millis>(*ctx.deadline - SteadyClock::now());
  }

  // The NONE condition goes to the log when it appears, changes, clears, and hourly while it
  // stays; the run's status is a warning only on those runs (its row stays a warning).
  HealthStatus LogNoneCondition(const JobContext& ctx, const Plan& plan, const DbStats& s) {
    const std::string prefix = "db=" + ctx.db.name + " vacuum: ";
    if (!plan.none) {
      std::string now = s.auto_vacuum == 0 ? "below the vacuum trigger"
                                            : std::string("auto_vacuum is now ") +
                                                  AutoVacuumName(s.auto_vacuum);
      state_.LogCleared(kNoneConditionKey, prefix + "auto_vacuum=none condition cleared: " + now);
      return plan.status;
    }
    auto event = state_.Log(kNoneConditionKey, plan.none->variant, plan.none->level,
                            prefix + plan.none->message, ctx.clock);
    if (event == StateChangeLog::Event::kNone) return HealthStatus::kHealthy;
    return plan.status;
  }

  JobReport Skipped(const JobContext& ctx, const Plan& plan, const DbStats& s,
                    const VacuumPolicy& p, SteadyClock::time_point start) {
    JobReport report;
    report.status = Scheduled() ? LogNoneCondition(ctx, plan, s) : plan.status;
    nlohmann::json details = StatsJson(s, p);
    details["skipped"] = plan.reason;
    for (auto& [k, v] : plan.extra.items()) details[k] = v;
    details["duration_ms"] = ElapsedMs(start);
    report.checks.push_back({"vacuum", plan.status, details});
    report.figures.freelist_count = s.freelist_count;
    report.skip_reason = plan.code;
    // Settled only by decisions that follow from the header alone; a refusal (disk space)
    // or a conversion waiting for its window moves with time.
    report.settled = plan.code == "below_trigger" || plan.code == "nothing_to_free" ||
                     plan.code == "auto_vacuum_full";
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.3f", s.free_ratio());
    // Between its state changes, a condition's runs only name it.
    std::optional<SystemTime> since = state_.Since(kNoneConditionKey);
    bool quiet = plan.none && since && report.status == HealthStatus::kHealthy;
    std::string what = quiet ? "auto_vacuum=none, not converted (" + plan.none->variant +
                                   ", reported " + StateChangeLog::FormatUtc(*since) + ")"
                             : plan.reason;
    // Below the trigger: both thresholds, since either one holds the vacuum back.
    char needs[96] = "";
    if (plan.code == "below_trigger") {
      std::snprintf(needs, sizeof needs, "; runs at trigger_free_ratio %.2f and min_free_pages %lld",
                    p.trigger_free_ratio, static_cast<long long>(p.min_free_pages));
    }
    report.summary = "vacuum skipped: " + what + " (free ratio " + ratio + ", " +
                     std::to_string(s.freelist_count) + " free pages" + needs + ")";
    return report;
  }

  std::optional<ShutdownVacuum> shutdown_;
  std::optional<VacuumCommand> command_;
  StateChangeLog state_;  // this job instance's conditions (scheduled runs)
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
