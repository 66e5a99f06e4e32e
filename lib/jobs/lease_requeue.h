#pragma once
// The lease_requeue job (CONTRACT.md sections 3, 4 and 7), one job per rule.
//
// For rule db.lease_requeue[i] on table T, a lease counts as expired when its row's
// status_column equals leased_value and its time column, read in time_format, is strictly
// before the cutoff:
//
//   expires_column:   expires   < now - grace
//   heartbeat_column: heartbeat < now - stale_after - grace
//
// (exactly one of the two columns is set). NULL or unparsable times never count as expired.
// `grace` (default 30s) covers applications that store the lease end in whole seconds,
// rounded down: compared with our millisecond clock such a lease looks expired up to 1 s
// before the application's own timeout, so any grace >= 1s is never early for them.
//
// Expired leases are requeued in batches. Each batch is ONE guarded statement in its own
// BEGIN IMMEDIATE transaction:
//
//   UPDATE T SET status = CASE WHEN <dead> THEN dead ELSE queued END,
//                owner = <owner_reset_value> (requeued rows only; default SQL NULL),
//                attempts = attempts + 1, or - 1 with attempts_direction: down (requeued only)
//   WHERE rowid IN (SELECT rowid FROM T WHERE status = leased AND time < cutoff LIMIT batch)
//     AND status = leased AND time < cutoff
//   RETURNING status = dead
//
// so a row that a worker renewed (or beat), completed or that the application's own rescue
// requeued meanwhile is never touched, and a lease is requeued at most once (afterwards the
// row is no longer leased). Batches repeat until one changes fewer than `batch` rows, or a
// stop is requested, or the deadline passes.
//
// <dead>, compared with the counter as the job finds it (NULL counts as 0); a dead row keeps
// its counter and its owner (the last holder, for the post-mortem):
//  - attempts_direction up (default): attempts >= max_attempts, when max_attempts > 0;
//    otherwise never. The job adds 1 per requeue; whatever the application adds is its own.
//  - attempts_direction down (a runs-left counter): the counter is already <= 0 (it reached
//    0: no runs left); otherwise the row is requeued and the counter decremented by 1. A
//    library that decrements on claim (liteque's numRunsLeft) thus dead-letters a lease that
//    expired on its last run, as the library itself does. max_attempts is not used (the
//    loader refuses it with down).
//
// An owner column declared NOT NULL with owner_reset_value null is refused before any
// write (CheckLeaseRule; validate-config and the daemon's start refuse it too, exit 78).
//
// Report: one sqlite_health_checks row (check_type "lease_requeue") with details
// {table, requeued, dead, batches, duration_ms}; metrics lease_requeue.requeued,
// lease_requeue.dead (rows) and lease_requeue.duration_ms (ms). Busy past busy_timeout before
// any batch: Status::Busy; after some: the report so far, as a warning.
#include <memory>

#include "lib/jobs/job.h"

namespace maintd {

// One job per rule: db.lease_requeue[rule_index].
std::shared_ptr<Job> MakeLeaseRequeueJob(const ResolvedDatabase& db, size_t rule_index);

}  // namespace maintd
