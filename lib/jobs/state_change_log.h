#pragma once
// Warnings per state change, not per run. A condition that stays the same from run to run
// (an auto_vacuum=NONE database the vacuum job leaves alone, fragmentation, ...) is logged
// once when it appears, then at most every `reminder` (1 h) while it stays, again when it
// changes form (its `variant`: e.g. "stall_too_long" -> "refused"), and once when it clears.
// Journal rows are not affected: every run still writes its row (CONTRACT.md section 7).
//
// One instance per job instance, keyed by condition; the state is in memory only. A job
// instance lives as long as the daemon's schedule entry (registry.cc JobsFor, kept by the
// scheduler), so a restart or a config reload (which makes new jobs) logs a condition that
// still holds once more; a one-shot `once` logs it once per invocation.
// Thread-safe (one mutex), although the runner never runs two jobs of a database at once.
// Intervals use the clock's steady time; `since` its wall time (FakeClock moves both).
// Memory (issue 14: three per database, 10,000 databases): the conditions that hold are a
// vector grown one slot at a time (rarely more than one or two; linear search), freed when
// the last one clears, so a database without a standing condition allocates nothing.

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/common.h>

#include "lib/core/clock.h"

namespace maintd {

inline constexpr Millis kStateChangeReminder = std::chrono::hours(1);

class StateChangeLog {
 public:
  enum class Event {
    kNone,      // nothing to log: unchanged, or logged less than `reminder` ago
    kAppeared,  // the condition did not hold at the last call
    kChanged,   // it held in another variant
    kReminder,  // unchanged, last logged `reminder` or more ago
    kCleared,   // it held until now and no longer does
  };

  explicit StateChangeLog(Millis reminder = kStateChangeReminder) : reminder_(reminder) {}

  // Condition `key` holds now, in the form `variant`. Returns what to log (and counts a
  // non-kNone answer as logged now).
  Event Holds(const std::string& key, const std::string& variant, const Clock& clock);
  // Condition `key` does not hold now: kCleared when it held, else kNone.
  Event Clears(const std::string& key);
  // Since when `key` holds in its current variant (wall time); nullopt when it does not.
  std::optional<SystemTime> Since(const std::string& key) const;

  // Holds(), and when that says so, logs `message` at `level` through spdlog; a reminder
  // gets " (unchanged since <UTC time>)" appended.
  Event Log(const std::string& key, const std::string& variant, spdlog::level::level_enum level,
            const std::string& message, const Clock& clock);
  // Clears(), and when the condition held, logs `message` at info.
  Event LogCleared(const std::string& key, const std::string& message);

  // "2025-01-31T03:00:00Z".
  static std::string FormatUtc(SystemTime t);

 private:
  struct State {
    std::string key;
    std::string variant;
    SystemTime since;
    SteadyTime last_logged;
  };
  // The state of `key`, or states_.end(). Call with mu_ held.
  std::vector<State>::iterator Find(const std::string& key);

  const Millis reminder_;
  mutable std::mutex mu_;
  std::vector<State> states_;  // the conditions that hold, one per key; guarded by mu_
};

}  // namespace maintd
