#pragma once
// Incremental vacuum that never freezes writers (SQLITE_FACTS.md, Vacuum).
//
// Work is done in steps. Each step is one BEGIN IMMEDIATE transaction that runs
// `PRAGMA incremental_vacuum(n)` page by page (one page per sqlite3_step) and commits. The
// write lock is held from the end of BEGIN IMMEDIATE to the end of COMMIT; that hold is
// measured for every step and `n` adapts so each step stays under `max_lock_hold`:
//   - the first step probes with a small batch (kProbePages) to measure the cost per page;
//   - n then follows (60% of the budget - expected commit time) / measured cost per page,
//     growing at most 2x per step (or back to kProbePages) and never above pages_per_step;
//   - within a step, stepping stops early once the time spent plus the expected commit
//     time reaches 60% of the budget, so a step can pass the budget only by one page move
//     plus the commit's variance (and preemption), however wrong the estimate was.
// Between steps it pauses `pause_between_steps` so writers get in and checks the stop token
// and the deadline. In WAL mode it runs a PASSIVE checkpoint every few hundred freed pages,
// so the WAL stays small and application commits do not pay for autocheckpoints of the
// vacuum's frames (this connection's own autocheckpoint is off for the run). At the end a
// PASSIVE then TRUNCATE checkpoint (wait = max_lock_hold) lets the file shrink.
//
// On a WAL database the steps commit with synchronous=NORMAL on this connection only
// (restored after): a vacuum step lost to a power cut just leaves its pages on the
// freelist, and skipping the per-commit fsync keeps the lock hold short.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "lib/core/clock.h"
#include "lib/core/progress.h"
#include "lib/core/status.h"
#include "lib/sqlite/connection.h"
#include "lib/sqlite/stop_token.h"

namespace maintd {

struct IncrementalOptions {
  int64_t pages_per_step = 1000;  // the largest batch a step may take
  Millis pause_between_steps{20};
  Millis max_lock_hold{50};
  int64_t max_pages = 0;   // 0 = until the freelist is empty; else stop after this many
  bool checkpoint = true;  // false on Litestream databases: Litestream owns checkpoints
  // Hard end (the clock's steady time): no new step starts after it; the caller's timer
  // interrupts a step still running.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Told "incremental", pages freed of the pages to free (the freelist at the start, or
  // max_pages), after every step. May be null.
  ProgressSink* progress = nullptr;
};

constexpr int64_t kProbePages = 32;

struct IncrementalOutcome {
  // Ok when the freelist was emptied (or max_pages reached). Otherwise why it stopped:
  // kBusy (BEGIN IMMEDIATE past busy_timeout), kInterrupted (stop token / deadline; the
  // step in flight rolled back), or an SQLite error. The figures below are valid either
  // way and count only committed steps.
  Status status;
  bool stopped_early = false;  // stop requested or deadline reached between steps
  int64_t pages_freed = 0;
  int64_t steps = 0;
  double max_lock_hold_ms = 0;  // longest write-lock hold of one step
  int64_t largest_step_pages = 0;
  int64_t freelist_before = 0;
  int64_t freelist_after = 0;
  int64_t page_size = 0;
  int64_t file_size_before = 0;  // main file, bytes
  int64_t file_size_after = 0;   // after the final checkpoint
  int64_t duration_ms = 0;
  bool checkpoint_busy = false;  // the final checkpoint could not finish: file shrinks later
};

// Runs an incremental vacuum on `conn` (read-write, outside any transaction; its
// busy_timeout bounds how long BEGIN IMMEDIATE waits for the lock). `conn` should be
// registered with `stop` so Abort() interrupts the step in flight. The pauses between steps
// and the deadline are on `clock`. Blocking; call from a worker thread. On an auto_vacuum
// NONE database nothing is freed (PRAGMA incremental_vacuum is a no-op there): callers
// check auto_vacuum first.
IncrementalOutcome RunIncrementalVacuum(Connection& conn, const IncrementalOptions& options,
                                        StopToken& stop,
                                        const Clock& clock = RealClock::Instance());

}  // namespace maintd
