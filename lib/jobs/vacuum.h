#pragma once
// The vacuum job (CONTRACT.md sections 4, 5 and 7; the work itself is in lib/vacuum/).
//
// Scheduled / once (MakeVacuumJob), every check_every:
//   - reads the free ratio from the header (O(1));
//   - auto_vacuum INCREMENTAL: when free ratio >= trigger_free_ratio AND freelist >=
//     min_free_pages, an incremental vacuum in lock-budgeted steps (incremental.h), then a
//     checkpoint so the file shrinks (not on Litestream databases: Litestream owns
//     checkpoints; incremental steps themselves are ordinary WAL commits it replicates);
//   - auto_vacuum NONE: the conversion rule of lib/vacuum/convert.h (convert_auto_vacuum
//     auto | true | false, max_full_vacuum_stall, convert_at) decides; converting is one full
//     VACUUM that switches it to INCREMENTAL. Otherwise, with full_when_no_auto_vacuum, a
//     full VACUUM when the trigger fires (converting too, unless convert_auto_vacuum is
//     false); otherwise, when the trigger fires (or the rules refuse a `true` conversion),
//     the database is left alone: a warning row every run, and in the log one line
//     "auto_vacuum=none database left alone ..." with the estimate and how to convert by
//     hand, per state change (state_change_log.h: when it appears or changes, hourly while
//     it stays, once when it clears), not per run. The run's own status is a warning only
//     on the runs that log it. A conversion waiting for convert_at is logged (info) the
//     same way.
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
//                    VACUUM that converts it when the conversion rule says so without the
//                    trigger and convert_at (an explicit request): always with `true`, with
//                    `auto` when the predicted stall is within max_full_vacuum_stall; else
//                    a full VACUUM when full_when_no_auto_vacuum (converting unless false);
//                    else Refused with the estimate and how to convert (--full);
//   kIncremental     lock-budgeted steps (all free pages, or about `pages`); Refused on NONE;
//   kFull            full VACUUM in place (on NONE it converts unless convert_auto_vacuum is
//                    false);
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
//     when the scheduled conversion rule converts now (convert.h: for auto the trigger and
//     the stall bound, for auto and true the convert_at window) or full_when_no_auto_vacuum
//     with the trigger fired, and in both cases the predicted duration (predict.h) fits the
//     time left; it converts unless convert_auto_vacuum is false.
//   kFull: a full VACUUM when the trigger fires, the disk check passes and the prediction
//     fits (on NONE: converting unless false); otherwise as kIncremental.
// Shutdown and command runs keep no state-change log: their one line is their summary.
// Stopped by the deadline: row `failed` with "interrupted by shutdown deadline".
std::shared_ptr<Job> MakeShutdownVacuumJob(const ResolvedDatabase& db, ShutdownVacuum mode);

}  // namespace maintd
