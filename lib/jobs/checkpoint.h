#pragma once
// The checkpoint job (CONTRACT.md section 4). The checkpoint primitive it runs (RunCheckpoint,
// shared with the CLI `checkpoint` command, the vacuum and the shutdown path) is in
// lib/wal/checkpoint.h.

#include <cstdint>
#include <memory>
#include <optional>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/jobs/job.h"
#include "lib/wal/checkpoint.h"

namespace maintd {

// What the `checkpoint` command and the shutdown ask for instead of the policy.
struct CheckpointJobOptions {
  // The mode to run instead of the policy's (the command, the shutdown); never escalated.
  std::optional<CheckpointMode> mode;
  // Asked for by hand (the command): runs also on non-WAL databases (frames -1) and on
  // Litestream databases, which the scheduled and shutdown runs skip.
  bool by_hand = false;
  // How long a blocking mode may make writers wait; nullopt: min(busy_timeout,
  // kCheckpointShortWait).
  std::optional<Millis> wait;
};

// The scheduled job: skipped (healthy row) on non-WAL and Litestream databases; otherwise
// the configured mode, escalated to TRUNCATE with a wait of min(busy_timeout,
// kCheckpointShortWait) when the WAL file is above truncate_wal_above. Warning when busy.
// report.output is the command's line: busy, log, checkpointed, mode, WAL sizes, duration.
std::shared_ptr<Job> MakeCheckpointJob(const ResolvedDatabase& db,
                                       CheckpointJobOptions options = {});

}  // namespace maintd
