#include "lib/jobs/registry.h"

#include <algorithm>

#include "lib/jobs/analyze.h"
#include "lib/jobs/backup.h"
#include "lib/jobs/checkpoint.h"
#include "lib/jobs/health.h"
#include "lib/jobs/journal_prune.h"
#include "lib/jobs/lease_requeue.h"
#include "lib/jobs/retention.h"
#include "lib/jobs/vacuum.h"

namespace maintd {

std::vector<std::string> KnownJobNames() {
  return {"health",    "integrity_check", "checkpoint",    "analyze", "vacuum",
          "retention", "lease_requeue",   "backup",        "journal_prune"};
}

bool IsKnownJobName(const std::string& name) {
  auto names = KnownJobNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<std::shared_ptr<Job>> MakeJobs(const std::string& name,
                                           const ResolvedDatabase& db) {
  std::vector<std::shared_ptr<Job>> jobs;
  if (name == "health") jobs.push_back(MakeHealthJob(db));
  else if (name == "integrity_check") jobs.push_back(MakeIntegrityCheckJob(db));
  else if (name == "checkpoint") jobs.push_back(MakeCheckpointJob(db));
  else if (name == "analyze") jobs.push_back(MakeAnalyzeJob(db));
  else if (name == "vacuum") jobs.push_back(MakeVacuumJob(db));
  else if (name == "backup") jobs.push_back(MakeBackupJob(db));
  else if (name == "journal_prune") jobs.push_back(MakeJournalPruneJob(db));
  else if (name == "retention") {
    for (size_t i = 0; i < db.retention.size(); ++i) jobs.push_back(MakeRetentionJob(db, i));
  } else if (name == "lease_requeue") {
    for (size_t i = 0; i < db.lease_requeue.size(); ++i) {
      jobs.push_back(MakeLeaseRequeueJob(db, i));
    }
  }
  return jobs;
}

std::vector<ScheduledJob> JobsFor(const ResolvedDatabase& db) {
  const DatabasePolicy& p = db.policy;
  std::vector<ScheduledJob> out;
  auto add = [&](std::shared_ptr<Job> job, Schedule s) {
    if (s.enabled()) out.push_back({std::move(job), s});
  };
  add(MakeHealthJob(db), {p.health.quick_check_every, std::nullopt});
  add(MakeIntegrityCheckJob(db), {Millis(0), p.health.integrity_check_daily_at});
  if (p.checkpoint.mode != CheckpointMode::kNone) {
    add(MakeCheckpointJob(db), {p.checkpoint.every, std::nullopt});
  }
  add(MakeAnalyzeJob(db), {Millis(0), p.analyze.daily_at});
  add(MakeVacuumJob(db), {p.vacuum.check_every, std::nullopt});
  for (size_t i = 0; i < db.retention.size(); ++i) {
    add(MakeRetentionJob(db, i), {db.retention[i].every, std::nullopt});
  }
  for (size_t i = 0; i < db.lease_requeue.size(); ++i) {
    add(MakeLeaseRequeueJob(db, i), {db.lease_requeue[i].every, std::nullopt});
  }
  add(MakeBackupJob(db), {p.backup.every, std::nullopt});
  add(MakeJournalPruneJob(db), {Millis(24h), std::nullopt});
  return out;
}

}  // namespace maintd
