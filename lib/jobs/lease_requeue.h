#pragma once
// The lease_requeue job (CONTRACT.md sections 3, 4 and 7), one job per rule.
//
// For rule db.lease_requeue[i] on table T: rows whose status_column equals leased_value and
// whose expires_column is before now (in time_format; NULL or unparsable never counts as
// expired) are requeued in batches. Each batch is ONE guarded statement in its own
// BEGIN IMMEDIATE transaction:
//
//   UPDATE T SET status = CASE WHEN attempts >= max_attempts THEN dead ELSE queued END,
//                owner = NULL (requeued rows only), attempts = attempts + 1 (requeued only)
//   WHERE rowid IN (SELECT rowid FROM T WHERE status = leased AND expires < now LIMIT batch)
//     AND status = leased AND expires < now
//   RETURNING status = dead
//
// so a row that a worker renewed or completed meanwhile is never touched, and a lease is
// requeued at most once (afterwards the row is no longer leased). Batches repeat until one
// changes fewer than `batch` rows, or a stop is requested, or the deadline passes.
//
// attempts: the job adds 1 per requeue (NULL counts as 0). Whatever else the application
// adds (e.g. +1 per claim) is its own; the job compares the column as it finds it: an expired
// lease whose attempts already equal or exceed max_attempts (> 0) goes to dead_value
// instead, with attempts unchanged and owner_column kept (it names the last holder).
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
