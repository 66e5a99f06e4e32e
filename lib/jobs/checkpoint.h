#pragma once
// The checkpoint job (CONTRACT.md section 4). The checkpoint primitive it runs (RunCheckpoint,
// shared with the CLI `checkpoint` command, the vacuum and the shutdown path) is in
// lib/wal/checkpoint.h.

#include <cstdint>
#include <memory>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/jobs/job.h"
#include "lib/wal/checkpoint.h"

namespace maintd {

// The scheduled job: skipped (healthy row) on non-WAL and Litestream databases; otherwise
// the configured mode, escalated to TRUNCATE with a wait of min(busy_timeout,
// kCheckpointShortWait) when the WAL file is above truncate_wal_above. Warning when busy.
std::shared_ptr<Job> MakeCheckpointJob(const ResolvedDatabase& db);

}  // namespace maintd
