#include "lib/jobs/vacuum_plan.h"

#include <algorithm>

namespace maintd {
namespace {

VacuumPlan Vacuum(VacuumMethod method, bool convert = false) {
  VacuumPlan p;
  p.method = method;
  p.convert = convert;
  return p;
}

// A full VACUUM on a NONE database converts it unless convert_auto_vacuum is false.
bool Converts(const VacuumPolicy& p) {
  return p.convert_auto_vacuum != ConvertAutoVacuum::kFalse;
}

// The decision says the database stays NONE for a reason the operator should know.
bool LeftAlone(const ConvertDecision& conv, bool triggered) {
  return conv.verdict == ConvertVerdict::kRefused || conv.verdict == ConvertVerdict::kTooSlow ||
         (conv.verdict == ConvertVerdict::kDisabled && triggered);
}

NoneCondition LeftAloneCondition(const std::string& why, const std::string& variant,
                                 const std::string& db_path, const VacuumPolicy& p) {
  return {variant, spdlog::level::warn,
          std::string(kLeftAloneText) + " (free pages stay in the file, it never shrinks): " +
              why + "; " + ConvertByHandHint(db_path, p)};
}

// A full VACUUM at shutdown only when its predicted duration fits the time left.
// `none`: the database is auto_vacuum=NONE (its conversion figures go to the row).
VacuumPlan FullIfItFits(const ConvertDecision& conv, std::optional<Millis> time_left,
                        bool convert, bool none) {
  const FullVacuumPrediction& pred = conv.prediction;
  Millis left = time_left.value_or(Millis::max());
  nlohmann::json extra = none ? conv.Details() : nlohmann::json::object();
  extra["predicted_ms"] = pred.duration.count();
  extra["prediction_source"] = pred.source;
  extra["prediction_samples"] = pred.samples;
  extra["time_left_ms"] = time_left ? left.count() : -1;
  if (pred.duration > left) {
    VacuumPlan skip = SkipPlan(
        "full VACUUM predicted to take " + std::to_string(pred.duration.count()) + " ms, only " +
            std::to_string(std::max<int64_t>(0, left.count())) +
            " ms left of the shutdown deadline (its copy-back cannot be interrupted)",
        HealthStatus::kWarning);
    skip.extra = extra;
    return skip;
  }
  VacuumPlan p = Vacuum(VacuumMethod::kFull, convert);
  p.extra = extra;
  return p;
}

}  // namespace

VacuumPlan SkipPlan(std::string reason, HealthStatus status) {
  VacuumPlan p;
  p.skip = true;
  auto starts = [&reason](const char* prefix) { return reason.rfind(prefix, 0) == 0; };
  p.code = starts("below trigger")             ? "below_trigger"
           : starts("nothing to free")         ? "nothing_to_free"
           : starts("auto_vacuum=none")        ? "auto_vacuum_none"
           : starts("auto_vacuum is none")     ? "auto_vacuum_none"
           : starts("auto_vacuum=full")        ? "auto_vacuum_full"
           : starts("shutdown vacuum is none") ? "disabled"
           : starts("full VACUUM predicted")   ? "deadline"
                                               : "refused";
  p.reason = std::move(reason);
  p.status = status;
  return p;
}

NoneCondition RefusedCondition(const std::string& message, const std::string& db_path,
                               const VacuumPolicy& p) {
  return LeftAloneCondition(message, ToString(ConvertVerdict::kRefused), db_path, p);
}

VacuumPlan PlanScheduled(const VacuumPolicy& p, const DbStats& s, const ConvertDecision& conv,
                         const std::string& db_path) {
  const bool triggered = VacuumTriggered(p, s);
  if (s.auto_vacuum == 2) {
    return triggered ? Vacuum(VacuumMethod::kIncremental) : SkipPlan("below trigger");
  }
  if (s.auto_vacuum != 0) return SkipPlan("auto_vacuum=full: SQLite frees pages at every commit");
  VacuumPlan plan;
  if (conv.convert_now()) {
    plan = Vacuum(VacuumMethod::kFull, /*convert=*/true);
  } else if (triggered && p.full_when_no_auto_vacuum && conv.verdict != ConvertVerdict::kRefused) {
    plan = Vacuum(VacuumMethod::kFull, Converts(p));
  } else if (conv.verdict == ConvertVerdict::kWaitForWindow) {
    plan = SkipPlan("auto_vacuum=none: " + conv.reason);
    plan.none = NoneCondition{ToString(conv.verdict), spdlog::level::info,
                              "auto_vacuum=none database: " + conv.reason};
  } else if (LeftAlone(conv, triggered)) {
    plan = SkipPlan("auto_vacuum=none, not converted: " + conv.reason, HealthStatus::kWarning);
    plan.none = LeftAloneCondition(conv.reason, ToString(conv.verdict), db_path, p);
  } else {
    plan = SkipPlan("below trigger");
  }
  plan.extra = conv.Details();
  return plan;
}

VacuumPlan PlanShutdown(ShutdownVacuum mode, const VacuumPolicy& p, const DbStats& s,
                        const ConvertDecision& conv, std::optional<Millis> time_left) {
  if (mode == ShutdownVacuum::kNone) return SkipPlan("shutdown vacuum is none");
  const bool triggered = VacuumTriggered(p, s);
  if (s.auto_vacuum == 0) {
    // Converted when the scheduled rule would convert now (stall bound, convert_at window),
    // or fully vacuumed (converting unless false) when the policy allows a full VACUUM.
    bool full_allowed = triggered && conv.verdict != ConvertVerdict::kRefused &&
                        (p.full_when_no_auto_vacuum || mode == ShutdownVacuum::kFull);
    if (conv.convert_now() || full_allowed) {
      return FullIfItFits(conv, time_left, conv.convert_now() || Converts(p), /*none=*/true);
    }
    // Healthy: the scheduled job reports a database left alone (per state change).
    VacuumPlan skip = LeftAlone(conv, triggered) || conv.verdict == ConvertVerdict::kWaitForWindow
                          ? SkipPlan("auto_vacuum=none, not converted at shutdown: " + conv.reason)
                          : SkipPlan("below trigger");
    skip.extra = conv.Details();
    return skip;
  }
  if (s.auto_vacuum != 2) return SkipPlan("auto_vacuum=full: SQLite frees pages at every commit");
  VacuumPlan fallback_note;
  if (mode == ShutdownVacuum::kFull && triggered && !s.litestream) {
    VacuumPlan full = FullIfItFits(conv, time_left, /*convert=*/false, /*none=*/false);
    if (!full.skip) return full;
    fallback_note = full;  // does not fit: incremental instead
  }
  if (s.freelist_count == 0) return SkipPlan("nothing to free");
  VacuumPlan inc = Vacuum(VacuumMethod::kIncremental);
  if (!fallback_note.reason.empty()) {
    inc.extra = fallback_note.extra;
    inc.extra["full_skipped"] = fallback_note.reason;
  }
  return inc;
}

VacuumPlan PlanCommand(const VacuumCommand& c, const VacuumPolicy& p, const DbStats& s,
                       const ConvertDecision& conv, const std::string& db_path) {
  if (!c.into.empty()) return Vacuum(VacuumMethod::kInto);
  const bool none = s.auto_vacuum == 0;
  if (c.method == VacuumCommand::kFull) return Vacuum(VacuumMethod::kFull, none && Converts(p));
  if (none && c.method == VacuumCommand::kAsPolicyAllows) {
    if (conv.convert_now()) {
      VacuumPlan plan = Vacuum(VacuumMethod::kFull, /*convert=*/true);
      plan.extra = conv.Details();
      return plan;
    }
    if (p.full_when_no_auto_vacuum) return Vacuum(VacuumMethod::kFull, Converts(p));
    if (conv.verdict == ConvertVerdict::kRefused || conv.verdict == ConvertVerdict::kTooSlow) {
      VacuumPlan refused = SkipPlan("auto_vacuum is none on this database and not converted: " +
                                        conv.reason + "; " + ConvertByHandHint(db_path, p),
                                    HealthStatus::kWarning);
      refused.refused = true;
      return refused;
    }
  }
  if (none) {
    VacuumPlan refused = SkipPlan(
        "auto_vacuum is none on this database: incremental vacuum frees nothing there. Use "
        "--full (a full VACUUM blocks writers while it runs; unless convert_auto_vacuum is "
        "false it also switches the database to auto_vacuum=incremental)",
        HealthStatus::kWarning);
    refused.refused = true;
    return refused;
  }
  return Vacuum(VacuumMethod::kIncremental);
}

}  // namespace maintd
