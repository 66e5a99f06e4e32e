#include "lib/jobs/registry.h"

#include "lib/jobs/analyze.h"
#include "lib/jobs/backup.h"
#include "lib/jobs/checkpoint.h"
#include "lib/jobs/health.h"
#include "lib/jobs/journal_prune.h"
#include "lib/jobs/lease_requeue.h"
#include "lib/jobs/retention.h"
#include "lib/jobs/vacuum.h"

namespace maintd {

namespace {

using Jobs = std::vector<std::shared_ptr<Job>>;

Schedule Every(Millis every) { return {every, std::nullopt}; }
Schedule DailyAt(std::optional<TimeOfDay> at) { return {Millis(0), at}; }

template <std::shared_ptr<Job> (*Make)(const ResolvedDatabase&)>
Jobs One(const ResolvedDatabase& db) {
  return {Make(db)};
}

}  // namespace

const std::vector<JobKind>& JobTable() {
  static const std::vector<JobKind> table = {
      {"health", "quick_check and the cheap checks (hourly)", One<MakeHealthJob>,
       [](const ResolvedDatabase& db, size_t) { return Every(db.policy.health.quick_check_every); }},
      {"integrity_check", "integrity_check and foreign_key_check (daily)",
       One<MakeIntegrityCheckJob>,
       [](const ResolvedDatabase& db, size_t) {
         return DailyAt(db.policy.health.integrity_check_daily_at);
       }},
      {"checkpoint", "WAL checkpoint", [](const ResolvedDatabase& db) { return Jobs{MakeCheckpointJob(db)}; },
       [](const ResolvedDatabase& db, size_t) {
         const CheckpointPolicy& p = db.policy.checkpoint;
         return p.mode == CheckpointMode::kNone ? Schedule{} : Every(p.every);
       }},
      {"analyze", "limited ANALYZE (daily)", [](const ResolvedDatabase& db) { return Jobs{MakeAnalyzeJob(db)}; },
       [](const ResolvedDatabase& db, size_t) { return DailyAt(db.policy.analyze.daily_at); }},
      {"vacuum", "incremental vacuum past the free-page trigger", One<MakeVacuumJob>,
       [](const ResolvedDatabase& db, size_t) { return Every(db.policy.vacuum.check_every); }},
      {"retention", "archive-then-delete of old rows (per rule)",
       [](const ResolvedDatabase& db) {
         Jobs jobs;
         for (size_t i = 0; i < db.retention.size(); ++i) jobs.push_back(MakeRetentionJob(db, i));
         return jobs;
       },
       [](const ResolvedDatabase& db, size_t i) { return Every(db.retention[i].every); }},
      {"lease_requeue", "expired leases back to the queue (per rule)",
       [](const ResolvedDatabase& db) {
         Jobs jobs;
         for (size_t i = 0; i < db.lease_requeue.size(); ++i) {
           jobs.push_back(MakeLeaseRequeueJob(db, i));
         }
         return jobs;
       },
       [](const ResolvedDatabase& db, size_t i) { return Every(db.lease_requeue[i].every); }},
      {"backup", "verified online backup, rotated", [](const ResolvedDatabase& db) { return Jobs{MakeBackupJob(db)}; },
       [](const ResolvedDatabase& db, size_t) { return Every(db.policy.backup.every); }},
      {"journal_prune", "drops journal rows past journal_retention (daily)",
       One<MakeJournalPruneJob>, [](const ResolvedDatabase&, size_t) { return Every(Millis(24h)); }},
  };
  return table;
}

std::vector<ScheduledJob> JobsFor(const ResolvedDatabase& db) {
  std::vector<ScheduledJob> out;
  for (const JobKind& kind : JobTable()) {
    Jobs jobs = kind.make(db);
    for (size_t i = 0; i < jobs.size(); ++i) {
      Schedule s = kind.schedule(db, i);
      if (s.enabled()) out.push_back({std::move(jobs[i]), s});
    }
  }
  return out;
}

std::vector<std::shared_ptr<Job>> MakeJobs(const std::string& name, const ResolvedDatabase& db) {
  for (const JobKind& kind : JobTable()) {
    if (kind.name == name) return kind.make(db);
  }
  return {};
}

std::vector<std::string> KnownJobNames() {
  std::vector<std::string> names;
  for (const JobKind& kind : JobTable()) names.push_back(kind.name);
  return names;
}

bool IsKnownJobName(const std::string& name) {
  for (const JobKind& kind : JobTable()) {
    if (kind.name == name) return true;
  }
  return false;
}

std::string KnownJobNamesText() {
  std::string text;
  for (const JobKind& kind : JobTable()) text += (text.empty() ? "" : ", ") + kind.name;
  return text;
}

}  // namespace maintd
