#pragma once
// The graceful-shutdown maintenance (CONTRACT.md section 5, steps 2-4).

#include <chrono>
#include <vector>

#include "lib/config/config.h"
#include "lib/jobs/maintained_database.h"
#include "lib/sqlite/stop_token.h"

namespace maintd {

// Runs the shutdown maintenance for each database in turn, all within `deadline` (steady
// clock), on the calling thread (a worker, never the event loop):
//   1. the configured shutdown vacuum (MakeShutdownVacuumJob through
//      MaintainedDatabase::Run, so it is gated like any destructive job and logged as one
//      sqlite_vacuum_log row `auto` or `full`): incremental to completion, or full only
//      when allowed, the disk check passes and its predicted duration fits the time left
//      (the copy-back of VACUUM cannot be interrupted);
//   2. a limited ANALYZE (when cfg.analyze; analysis_limit from the policy, 1000 if unset);
//   3. the shutdown checkpoint (cfg.checkpoint: none | passive | truncate; truncate waits at
//      most kCheckpointShortWait, then finishes as passive). Skipped on databases not in WAL
//      mode and on Litestream databases.
// Steps 2 and 3 write one `analyze` / `checkpoint` sqlite_health_checks row each (details
// carry "trigger":"shutdown"). Databases known corrupt are skipped entirely. A step is
// skipped when nothing changed since this maintainer's last run on the database and that
// step's job (vacuum, analyze, checkpoint) settled then; a database whose steps are all
// settled is skipped with one info line (MaintainedDatabase::SettledUnchanged).
//
// Time sharing: each database gets an equal share of what is left when its turn comes; its
// vacuum must end a fifth of that share (at most 1 s) early, kept for ANALYZE and the
// checkpoint. A vacuum that reaches the end of its share stops at its next safe point.
//
// At `deadline` a timer thread calls stop.Abort(): the SQLite statement in flight fails
// with SQLITE_INTERRUPT and rolls back (the database stays intact), a vacuum run is logged
// `failed` with "interrupted by shutdown deadline", and no further step starts. Returns
// when everything is done or right after the deadline (plus the rollback and the journal
// update of the interrupted run). `stop` is also honoured for a hard abort from outside
// (second signal). Never throws.
void RunShutdownMaintenance(const std::vector<MaintainedDatabase*>& dbs, const ShutdownConfig& cfg,
                            std::chrono::steady_clock::time_point deadline, StopToken& stop);

}  // namespace maintd
