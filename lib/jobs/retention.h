#pragma once
// The retention job (CONTRACT.md sections 3, 4 and 7), one job per rule.
//
// A run, for rule db.retention[i] on table T with time column C:
//  1. With archive_after/archive_to: rows with C older than archive_after that keep_where
//     does not protect and that the archive does not hold yet are copied to the archive
//     database in batches (lib/queue/archive.h): each batch is one transaction on the
//     archive only, verified (every copied row present with identical values) and
//     committed durably before anything is deleted.
//  2. Rows with C older than delete_after that keep_where does not protect are deleted in
//     batches of `batch` rows, each batch its own short BEGIN IMMEDIATE transaction, with
//     pause_between_batches between batches (a batch whose write transaction took over
//     50 ms halves the next one; quick ones grow it back up to `batch`). The DELETE
//     re-checks every condition; with an archive it deletes only rows of which the archive
//     holds an identical copy (checked in the same transaction, with the archive attached
//     read-only), so nothing is deleted that is not safely archived. Rows that fail that
//     check stay and are counted in skipped (the run is then a warning); rows whose archive
//     rowid is taken by a different row are counted in archive_conflicts on every run.
//  Which rows a batch takes is found by a read-only query outside the write transaction
//  (lib/queue/row_scanner.h), so the write lock is held only for the DELETE itself. In WAL
//  mode the delete commits use synchronous=NORMAL (no fsync under the lock; a lost batch is
//  redone by the next run) and each is followed by a PASSIVE checkpoint (not on Litestream
//  databases), so the application's next commit never inherits the job's WAL frames.
//  dry_run: counts what a run would archive and delete; writes nothing, creates no archive.
//  Stops at the next batch when ctx.stop is requested or ctx.deadline passes.
//
// Report: one sqlite_health_checks row (check_type "retention") with details
// {table, archived, deleted, batches, duration_ms, dry_run, skipped, max_lock_hold_ms,
// archive_conflicts (with an archive), smallest_batch (when batches shrank), stopped (when
// it stopped early)}; metrics retention.archived / retention.deleted (rows),
// retention.duration_ms and retention.max_lock_hold_ms (ms). Busy past busy_timeout before
// any batch: Status::Busy; after some batches: the report so far, as a warning.
#include <memory>

#include "lib/jobs/job.h"

namespace maintd {

// One job per rule: db.retention[rule_index].
std::shared_ptr<Job> MakeRetentionJob(const ResolvedDatabase& db, size_t rule_index);

}  // namespace maintd
