#pragma once
// What one vacuum run will do (internal to vacuum.cc): skip with a reason, refuse, or vacuum
// with a method. Pure functions of the policy, the database's stats, the conversion
// decision (lib/vacuum/convert.h) and, for the shutdown, the time left.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

#include "lib/config/config.h"
#include "lib/inspect/db_stats.h"
#include "lib/jobs/vacuum.h"
#include "lib/journal/journal.h"
#include "lib/vacuum/convert.h"
#include "lib/vacuum/run.h"

namespace maintd {

// The lasting state of an auto_vacuum=NONE database that the scheduled vacuum job does not
// shrink now, for the state-change log (state_change_log.h): logged when it appears or
// changes, not at every run.
struct NoneCondition {
  std::string variant;  // the conversion verdict: "stall_too_long", "refused", "disabled", ...
  spdlog::level::level_enum level = spdlog::level::warn;
  std::string message;  // without the "db=NAME vacuum: " prefix
};
inline constexpr char kNoneConditionKey[] = "auto_vacuum_none";
// The words the "left alone" line starts with (tests and the runbook look for them).
inline constexpr char kLeftAloneText[] = "auto_vacuum=none database left alone";

struct VacuumPlan {
  bool skip = false;
  bool refused = false;  // the request cannot be done here: the run fails (kRefused)
  std::string reason;
  // For a skip: the short code of the metrics' reason label (below_trigger,
  // nothing_to_free, auto_vacuum_none, auto_vacuum_full, disabled, deadline, refused).
  std::string code;
  HealthStatus status = HealthStatus::kHealthy;
  VacuumMethod method = VacuumMethod::kIncremental;
  bool convert = false;
  nlohmann::json extra = nlohmann::json::object();
  std::optional<NoneCondition> none;  // scheduled runs on NONE databases left as they are
};

VacuumPlan SkipPlan(std::string reason, HealthStatus status = HealthStatus::kHealthy);

// Scheduled and `once` runs.
VacuumPlan PlanScheduled(const VacuumPolicy& p, const DbStats& s, const ConvertDecision& conv,
                         const std::string& db_path);
// The shutdown vacuum; `time_left` nullopt = no deadline.
VacuumPlan PlanShutdown(ShutdownVacuum mode, const VacuumPolicy& p, const DbStats& s,
                        const ConvertDecision& conv, std::optional<Millis> time_left);
// The `vacuum` command.
VacuumPlan PlanCommand(const VacuumCommand& c, const VacuumPolicy& p, const DbStats& s,
                       const ConvertDecision& conv, const std::string& db_path);

// The NONE condition of a full VACUUM the rules refused at run time (the disk filled up
// between the plan and the run).
NoneCondition RefusedCondition(const std::string& message, const std::string& db_path,
                               const VacuumPolicy& p);

}  // namespace maintd
