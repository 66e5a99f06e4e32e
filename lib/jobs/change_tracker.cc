#include "lib/jobs/change_tracker.h"

namespace maintd {

bool ChangeTracker::Observe(const FileSignature& now) {
  std::lock_guard lock(mu_);
  if (ours_ && ours_->SameAs(now)) return true;
  if (ours_) changed_since_first_contact_ = true;
  for (auto& [name, state] : jobs_) state.settled = false;
  ours_ = now;
  return false;
}

bool ChangeTracker::MaySkip(const std::string& job, const std::string& probe, SystemTime now,
                            Millis rerun_after) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end() || !it->second.settled || it->second.probe != probe) return false;
  // A settled job with no real run on record (settled by a pre-open skip) needs none.
  const auto& last = it->second.last_real_run;
  return !last || now - *last < rerun_after;
}

bool ChangeTracker::RanBefore(const std::string& job) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(job);
  return it != jobs_.end() && it->second.last_real_run.has_value();
}

bool ChangeTracker::Knows(const std::string& job) const {
  std::lock_guard lock(mu_);
  return jobs_.count(job) > 0;
}

void ChangeTracker::MarkSettled(const std::string& job, const std::string& probe, SystemTime) {
  std::lock_guard lock(mu_);
  JobState& state = jobs_[job];
  state.settled = true;
  state.probe = probe;
}

void ChangeTracker::Record(const std::string& job, bool settled, bool changed_data,
                           const std::string& probe, const FileSignature& after, SystemTime now) {
  std::lock_guard lock(mu_);
  if (changed_data) {
    for (auto& [name, state] : jobs_) state.settled = false;
    changed_since_first_contact_ = true;
  }
  ours_ = after;
  JobState& state = jobs_[job];
  state.settled = settled;
  state.probe = probe;
  state.last_real_run = now;
}

void ChangeTracker::UnsettleAll() {
  std::lock_guard lock(mu_);
  for (auto& [name, state] : jobs_) state.settled = false;
}

bool ChangeTracker::SettledUnchanged(const FileSignature& now,
                                     const std::vector<std::string>& jobs) const {
  std::lock_guard lock(mu_);
  if (!ours_ || !ours_->SameAs(now)) return false;
  for (const std::string& job : jobs) {
    auto it = jobs_.find(job);
    if (it == jobs_.end() || !it->second.settled) return false;
  }
  return true;
}

bool ChangeTracker::UnchangedSinceFirstLook(const FileSignature& now) const {
  std::lock_guard lock(mu_);
  return ours_ && ours_->SameAs(now) && !changed_since_first_contact_;
}

}  // namespace maintd
