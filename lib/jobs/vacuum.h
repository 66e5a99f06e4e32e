#pragma once
// The vacuum job (CONTRACT.md sections 4, 5 and 7; the work itself is in lib/vacuum/).
//
// Scheduled / once (MakeVacuumJob), every check_every:
//   - reads the free ratio from the header (O(1));
//   - auto_vacuum INCREMENTAL: when free ratio >= trigger_free_ratio AND freelist >=
//     min_free_pages, an incremental vacuum in lock-budgeted steps (incremental.h), then a
//     checkpoint so the file shrinks (not on Litestream databases: Litestream owns
//     checkpoints; incremental steps themselves are ordinary WAL commits it replicates);
//   - auto_vacuum NONE: with convert_auto_vacuum, one full VACUUM that switches it to
//     INCREMENTAL (whatever the ratio: it is a one-time conversion); with
//     full_when_no_auto_vacuum, a full VACUUM when the trigger fires; otherwise, when the
//     trigger fires, a warning: free pages stay on the freelist and the file never shrinks.
//   - auto_vacuum FULL: nothing to do (SQLite frees pages at every commit).
// Journal rows: every run returns one `vacuum` check row (sqlite_health_checks, through
// the runner), whose details carry the figures the HTTP metrics read (freelist_count,
// pages_freed, max_lock_hold_ms, ...). In addition:
//   - a real run (work started) is exactly one sqlite_vacuum_log row, type `auto` (`full`
//     for a full VACUUM), written through ctx.journal (running, then completed/failed),
//     plus metric rows in the report (vacuum.pages_freed, .bytes_freed, .duration_ms,
//     .max_lock_hold_ms); its check row has the run's figures (method, pages_freed,
//     bytes_freed, duration_ms, max_lock_hold_ms, steps, freelist_before/after,
//     vacuum_log_id);
//   - a check that does not run (below trigger, nothing to free, auto_vacuum NONE without a
//     policy, a full VACUUM refused by the disk or Litestream rule, or one that would not fit
//     the shutdown deadline) writes no vacuum_log row; its check row is
//     {"skipped": reason, free_ratio, freelist_count, page_count, auto_vacuum, ...},
//     healthy for "below trigger"/"nothing to free", warning otherwise.
// Under ctx.deadline (shutdown), lock waits end at the deadline and journal writes wait at
// most 250 ms for the write lock (a row left `running` is repaired at the next start).
// Outcome: a run stopped at a safe point (stop requested, deadline) returns a warning report
// (row `failed`, with "stopped before completion (stop requested)", or "interrupted by
// shutdown deadline" for shutdown runs); BEGIN IMMEDIATE busy past busy_timeout returns
// Status::Busy (row `failed`); other SQLite errors return their Status.

#include <memory>

#include "lib/config/config.h"
#include "lib/jobs/job.h"

namespace maintd {

inline constexpr char kShutdownInterruptedMessage[] = "interrupted by shutdown deadline";

std::shared_ptr<Job> MakeVacuumJob(const ResolvedDatabase& db);

// The `vacuum` command (CONTRACT.md section 2), without the trigger threshold:
//   kAsPolicyAllows  incremental on an auto_vacuum=incremental database; on NONE a full
//                    VACUUM when convert_auto_vacuum (which switches it to incremental) or
//                    full_when_no_auto_vacuum is set, else Refused with a hint;
//   kIncremental     lock-budgeted steps (all free pages, or about `pages`); Refused on NONE;
//   kFull            full VACUUM in place (switching to incremental when convert_auto_vacuum);
//   `into` set       VACUUM INTO a new file: the database is not changed (read-only
//                    connection, no vacuum_log row).
// Refusals (also the full-VACUUM disk and Litestream rules) fail the run with kRefused.
// Its vacuum_log row is `incremental` for kIncremental / kAsPolicyAllows incremental runs,
// `full` for full ones. report.output is the command's line (pages_freed=... bytes_freed=...).
struct VacuumCommand {
  enum Method { kAsPolicyAllows, kIncremental, kFull } method = kAsPolicyAllows;
  int64_t pages = 0;  // kIncremental: about this many pages, 0 = all
  std::string into;   // VACUUM INTO this path (must not exist)
};
std::shared_ptr<Job> MakeVacuumCommandJob(const ResolvedDatabase& db, VacuumCommand command);

// The shutdown vacuum of one database (CONTRACT.md section 5), run with trigger kShutdown
// and ctx.deadline = the end of this database's share of the shutdown deadline:
//   kNone: skipped.
//   kIncremental: on INCREMENTAL databases, incremental vacuum to completion (no trigger
//     threshold: any free page) until the deadline. On NONE databases a full VACUUM only
//     when the policy allows one (convert_auto_vacuum, or full_when_no_auto_vacuum with the
//     trigger fired), the disk check passes and the predicted duration (predict.h) fits.
//   kFull: a full VACUUM when the trigger fires, the disk check passes and the prediction
//     fits; otherwise as kIncremental.
// Stopped by the deadline: row `failed` with "interrupted by shutdown deadline".
std::shared_ptr<Job> MakeShutdownVacuumJob(const ResolvedDatabase& db, ShutdownVacuum mode);

}  // namespace maintd
