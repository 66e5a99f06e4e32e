#pragma once
// "Work only where something changed" (issue 14): what a maintainer remembers of one
// database between runs, so that a scheduled job whose work cannot have changed is skipped
// without opening the database (no gate, no connection, no journal row).
//
// The rule:
//   - `ours`: the database's FileSignature (lib/inspect/file_signature.h) read right after
//     our own last run on it (its connection closed, its journal rows committed), so our
//     own writes (journal rows, checkpoints, vacuum steps) never count as a change.
//   - Before every run (Observe): a signature that differs from `ours` is an outside change
//     (or our view is incomplete: the header could not be read); every job becomes
//     unsettled, and `ours` becomes that signature.
//   - After a run (Record): `ours` is the signature read then. The job is settled when a
//     scheduled run of it finished with nothing left to do (JobReport::settled); the first
//     scheduled run after the start is always real (RanBefore), unless the files alone
//     prove there is nothing to do (Job::NothingToDo: MarkSettled). A run that changed the
//     application's data (rows requeued or deleted, pages freed) unsettles the other jobs.
//   - A settled job skips (MaySkip) while `ours` still holds, its probe (cheap checks that
//     move with time: Job::ChangeProbe) still reads the same, and its last real run is
//     younger than its JobTraits::settled_rerun_after (a day by default): the safety net.
//
// Known window: a write that lands while our own run is in progress (after the signature
// read before it, before the one after its journal row) is counted as ours; the next
// outside write, or the daily rerun, catches it.
//
// Thread-safety: all members are guarded by mu_; every method may be called from any
// thread (MaintainedDatabase calls them from the worker running a job and, at shutdown,
// from the control thread).
//
// Memory (issue 14, one tracker per database, 10,000 databases): the stored signature is
// a FileStamp (only what SameAs compares), the jobs are a vector grown one slot at a time
// (a handful per database; linear search), each naming its job through a process-wide
// interned copy of the name and keeping an empty probe inline (no allocation).

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/clock.h"
#include "lib/inspect/file_signature.h"

namespace maintd {

class ChangeTracker {
 public:
  // Compares `now` with `ours`: on a difference every job becomes unsettled and `ours`
  // becomes `now` (nothing settled is left that it could hide). Returns true when nothing
  // changed since our last run.
  bool Observe(const FileSignature& now);
  // True when `job` may be skipped as unchanged now (call Observe first with the same
  // signature): settled, the same probe, a real run younger than `rerun_after`.
  bool MaySkip(const std::string& job, const std::string& probe, SystemTime now,
               Millis rerun_after) const;
  // True once `job` had a real run in this process (the first scheduled run after the
  // start is always real: it journals a row and establishes `ours`).
  bool RanBefore(const std::string& job) const;
  // True once `job` ran or was settled by a pre-open skip in this process.
  bool Knows(const std::string& job) const;
  // After a pre-open skip that proves there is nothing to do (e.g. no WAL frames to
  // checkpoint): the job is settled against the signature just observed.
  void MarkSettled(const std::string& job, const std::string& probe, SystemTime now);
  // After a real run of `job`: `after` is the signature read once our connection and the
  // journal are closed.
  void Record(const std::string& job, bool settled, bool changed_data, const std::string& probe,
              const FileSignature& after, SystemTime now);
  // After a config reload (the jobs' policy may have changed): every job unsettled.
  void UnsettleAll();
  // True when nothing changed since our last run (`now` equals `ours`) and each of `jobs`
  // is settled: the shutdown maintenance has nothing to add.
  bool SettledUnchanged(const FileSignature& now, const std::vector<std::string>& jobs) const;
  // True when the database has not changed since our first look at it: no outside write
  // seen, no data changed by our own runs, and `now` equals `ours`. What only follows
  // changes (ANALYZE's statistics) has nothing to catch up on then.
  bool UnchangedSinceFirstLook(const FileSignature& now) const;

 private:
  struct JobState {
    const std::string* name;     // interned: one copy per distinct job name in the process
    std::string probe;           // most jobs have none: "" stays inline, no allocation
    SystemTime last_real_run{};  // meaningful when ran_real
    bool ran_real = false;       // a real run in this process
    bool settled = false;
  };
  // The state of `job`, or null. Call with mu_ held.
  JobState* Find(const std::string& job);
  const JobState* Find(const std::string& job) const;
  // The state of `job`, added (unsettled, never run) when absent. Call with mu_ held.
  JobState& FindOrAdd(const std::string& job);
  // Every job unsettled. Call with mu_ held.
  void UnsettleAllLocked();

  mutable std::mutex mu_;
  std::optional<FileStamp> ours_;  // guarded by mu_
  std::vector<JobState> jobs_;     // one per job name, in first-seen order; guarded by mu_
  // An outside write seen, or data changed by one of our runs, since the first Observe();
  // guarded by mu_.
  bool changed_since_first_contact_ = false;
};

}  // namespace maintd
