#include "lib/jobs/change_tracker.h"

#include <set>

namespace maintd {
namespace {

// The job names seen by any tracker, one copy each for the whole process (the job
// classes' names: about ten). A set's nodes never move, so the returned pointer stays
// valid and its string is read without the lock; never freed (trackers may be used until
// the process exits). Thread-safe.
const std::string* InternJobName(const std::string& name) {
  static std::mutex mu;
  static auto* names = new std::set<std::string>;
  std::lock_guard lock(mu);
  return &*names->insert(name).first;
}

}  // namespace

ChangeTracker::JobState* ChangeTracker::Find(const std::string& job) {
  for (JobState& state : jobs_) {
    if (*state.name == job) return &state;
  }
  return nullptr;
}

const ChangeTracker::JobState* ChangeTracker::Find(const std::string& job) const {
  return const_cast<ChangeTracker*>(this)->Find(job);
}

ChangeTracker::JobState& ChangeTracker::FindOrAdd(const std::string& job) {
  if (JobState* state = Find(job)) return *state;
  // One slot at a time: a job is added once per database, and a doubling vector would
  // keep unused slots in every one of them.
  jobs_.reserve(jobs_.size() + 1);
  jobs_.push_back(JobState{InternJobName(job), {}, {}, false, false});
  return jobs_.back();
}

void ChangeTracker::UnsettleAllLocked() {
  for (JobState& state : jobs_) state.settled = false;
}

bool ChangeTracker::Observe(const FileSignature& now) {
  std::lock_guard lock(mu_);
  if (ours_ && ours_->SameAs(now)) return true;
  if (ours_) changed_since_first_contact_ = true;
  UnsettleAllLocked();
  ours_ = now.stamp();
  return false;
}

bool ChangeTracker::MaySkip(const std::string& job, const std::string& probe, SystemTime now,
                            Millis rerun_after) const {
  std::lock_guard lock(mu_);
  const JobState* state = Find(job);
  if (!state || !state->settled || state->probe != probe) return false;
  // A settled job with no real run on record (settled by a pre-open skip) needs none.
  return !state->ran_real || now - state->last_real_run < rerun_after;
}

bool ChangeTracker::RanBefore(const std::string& job) const {
  std::lock_guard lock(mu_);
  const JobState* state = Find(job);
  return state && state->ran_real;
}

bool ChangeTracker::Knows(const std::string& job) const {
  std::lock_guard lock(mu_);
  return Find(job) != nullptr;
}

void ChangeTracker::MarkSettled(const std::string& job, const std::string& probe, SystemTime) {
  std::lock_guard lock(mu_);
  JobState& state = FindOrAdd(job);
  state.settled = true;
  if (state.probe != probe) state.probe = probe;
}

void ChangeTracker::Record(const std::string& job, bool settled, bool changed_data,
                           const std::string& probe, const FileSignature& after, SystemTime now) {
  std::lock_guard lock(mu_);
  if (changed_data) {
    UnsettleAllLocked();
    changed_since_first_contact_ = true;
  }
  ours_ = after.stamp();
  JobState& state = FindOrAdd(job);
  state.settled = settled;
  if (state.probe != probe) state.probe = probe;
  state.last_real_run = now;
  state.ran_real = true;
}

void ChangeTracker::UnsettleAll() {
  std::lock_guard lock(mu_);
  UnsettleAllLocked();
}

bool ChangeTracker::SettledUnchanged(const FileSignature& now,
                                     const std::vector<std::string>& jobs) const {
  std::lock_guard lock(mu_);
  if (!ours_ || !ours_->SameAs(now)) return false;
  for (const std::string& job : jobs) {
    const JobState* state = Find(job);
    if (!state || !state->settled) return false;
  }
  return true;
}

bool ChangeTracker::UnchangedSinceFirstLook(const FileSignature& now) const {
  std::lock_guard lock(mu_);
  return ours_ && ours_->SameAs(now) && !changed_since_first_contact_;
}

}  // namespace maintd
