#pragma once
// The one rule that decides whether a database may be written (CONTRACT.md section 4:
// nothing is written to a database before its integrity is known), and what this process
// knows about that integrity. Owned by MaintainedDatabase; every job and command passes
// it inside MaintainedDatabase::Run, the one door (docs/architecture.md, "The write gate").
//
// What counts as a write: anything that changes the database file or its -wal: journal
// tables and rows (journal: target), orphan repair, ANALYZE, checkpoints, vacuum steps,
// requeues, retention, and closing the last read-write connection of a WAL database
// (SQLite checkpoints then). So until the gate admits a job, only read-only connections
// are opened on the database.
//
// Admit() passes when the database is known sound:
//   1. a good quick_check / integrity_check seen by this process younger than `recent`;
//   2. else the newest such row of the journal (read through a read-only connection) when
//      it is healthy, readable and younger than `recent`;
//   3. else `PRAGMA quick_check` now, on a read-only connection; its row is handed back
//      for the runner to journal once the database is known sound.
// A database whose last integrity result is critical (found by the gate or a proving job
// of this process, the lock-file note of an earlier one, or the newest journal row) is
// refused with Status::Corrupt until a proving job (health, integrity_check) finds it
// sound again or a restore replaces it: the refusal says so (`once --job health DB`).
//
// The verdict is also kept as a note in the maintainer lock file (maintainer_lock.h), so
// `status` can report a corrupt database that nothing may be written into.
//
// Thread-safety: every method is thread-safe. mu_ guards state_; the rest is immutable.

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/sqlite/stop_token.h"
#include "lib/jobs/job.h"
#include "lib/journal/journal.h"

namespace maintd {

struct IntegrityState {
  IntegrityVerdict verdict = IntegrityVerdict::kNotChecked;
  SystemTime at{};      // when it was established
  std::string source;   // quick_check, integrity_check, journal, lock file
  std::string problem;  // the first problem, when corrupt
  bool this_process = false;  // established by a check this process ran
};

// The lock-file note for a corrupt database, and its parse ("" / nullopt: none).
std::string IntegrityNote(const IntegrityState& state);
std::optional<IntegrityState> ParseIntegrityNote(const std::string& note);

// What the gate needs of its database besides the per-run settings (Admit's argument). The
// gate is one per maintained database, so nothing here is copied per database: `path` and
// `journal` point into the owner (MaintainedDatabase: its path and its shared options) and
// must outlive the gate.
struct IntegrityGateOptions {
  std::string_view path;                  // the database; not owned
  const JournalTarget* journal = nullptr;  // where the evidence rows live; not owned
  const Clock* clock = &RealClock::Instance();
  Millis recent = std::chrono::hours(1);  // how old a good result may be
  // Persists the note (the maintainer lock's WriteNote); may be empty.
  std::function<void(const std::string& note)> write_note;
};

class IntegrityGate {
 public:
  // `initial`: what the lock-file note said when the lock was taken (nullopt: nothing).
  IntegrityGate(IntegrityGateOptions options, std::optional<IntegrityState> initial);

  // Ok when the database may be written now. Corrupt when it is (or was just found)
  // corrupt; Busy / IoError / Interrupted when the check could not run (retry later).
  // `gate_rows` receives the quick_check row the gate ran, if it ran one (critical rows
  // only go to a central journal: the caller decides). `settings`: the run's (its name for
  // the log, its busy_timeout for the check's connection). Blocking; `stop` interrupts it.
  Status Admit(const ResolvedDatabase& settings, StopToken& stop,
               std::vector<CheckRow>* gate_rows);

  // The verdict of a proving job (or of a restore, which replaces the file with a
  // verified backup). kNotChecked is ignored.
  void Record(IntegrityVerdict verdict, const std::string& source, const std::string& problem);

  IntegrityState state() const;
  bool known_corrupt() const { return state().verdict == IntegrityVerdict::kCorrupt; }

 private:
  bool RecentSound(const IntegrityState& s) const;
  Status Refusal(const IntegrityState& known) const;
  // Step 2: the journal's newest integrity row, read-only. nullopt when there is none.
  std::optional<IntegrityState> FromJournal() const;

  const IntegrityGateOptions options_;
  mutable std::mutex mu_;
  IntegrityState state_;  // guarded by mu_
};

}  // namespace maintd
