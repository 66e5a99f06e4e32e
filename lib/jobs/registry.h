#pragma once
// The job table: the only list of jobs (registry.cc). Each row names a job, says how to
// make its instances for a database and when the policy schedules them. A job's traits
// (what it may touch, whether it proves integrity) are properties of the Job itself
// (job.h). Adding a job is one new file plus one row of the table.

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

// One row of the job table.
struct JobKind {
  std::string name;         // `once --job NAME`, logs, metrics
  std::string description;  // one line for help texts
  // The jobs of this kind for a database: one, or one per rule (lease_requeue, retention;
  // none when the database has no rule).
  std::vector<std::shared_ptr<Job>> (*make)(const ResolvedDatabase& db);
  // When the policy runs the index-th of them (disabled: not scheduled).
  Schedule (*schedule)(const ResolvedDatabase& db, size_t index);
};

// The table, in the order `once` runs the jobs (the integrity checks first: they admit
// the writers that follow without a second read of the file).
const std::vector<JobKind>& JobTable();

// The enabled jobs of one database with their schedules, in table order.
std::vector<ScheduledJob> JobsFor(const ResolvedDatabase& db);

// The jobs called `name` for `once --job NAME`, whatever their schedule (empty when the
// database has no rule for a rule job, or the name is unknown: see IsKnownJobName).
std::vector<std::shared_ptr<Job>> MakeJobs(const std::string& name, const ResolvedDatabase& db);
std::vector<std::string> KnownJobNames();
bool IsKnownJobName(const std::string& name);
// "health, integrity_check, ..." for help texts and errors.
std::string KnownJobNamesText();

}  // namespace maintd
