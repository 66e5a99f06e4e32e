#pragma once
// config -> job instances: the only list of jobs.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/jobs/job.h"

namespace maintd {

// When a job runs: every `every` (>0), or daily at `daily_at`.
struct Schedule {
  Millis every{0};
  std::optional<TimeOfDay> daily_at;
  bool enabled() const { return every.count() > 0 || daily_at.has_value(); }
};

struct ScheduledJob {
  std::shared_ptr<Job> job;
  Schedule schedule;
};

// The enabled jobs of one database with their schedules, in the order `once` runs them:
// health, integrity_check, checkpoint, analyze, vacuum, retention, lease_requeue, backup,
// journal_prune.
std::vector<ScheduledJob> JobsFor(const ResolvedDatabase& db);

// The jobs called `name` for `once --job NAME`, whatever their schedule (lease_requeue and
// retention give one job per rule; empty when the database has no rule). `KnownJobNames`
// lists the valid names; IsKnownJobName checks one.
std::vector<std::shared_ptr<Job>> MakeJobs(const std::string& name, const ResolvedDatabase& db);
std::vector<std::string> KnownJobNames();
bool IsKnownJobName(const std::string& name);

}  // namespace maintd
