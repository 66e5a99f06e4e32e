#pragma once
// The checkpoint job (CONTRACT.md section 4) and the checkpoint primitive shared with the
// CLI `checkpoint` command, the vacuum job and the shutdown path.

#include <cstdint>
#include <memory>
#include <optional>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/jobs/job.h"
#include "lib/sqlite/connection.h"

namespace maintd {

// How long a blocking (TRUNCATE/FULL/RESTART) checkpoint started by the job may make writers
// wait: while SQLite waits for readers it holds the write lock (SQLITE_FACTS.md).
inline constexpr Millis kCheckpointShortWait{200};

struct CheckpointResult {
  bool busy = false;                 // SQLite gave up waiting (or another checkpoint ran)
  int64_t log_frames = -1;           // frames in the WAL; -1 when not in WAL mode
  int64_t checkpointed_frames = -1;  // frames copied back; -1 when not in WAL mode
  CheckpointMode mode_used = CheckpointMode::kPassive;  // the mode SQLite was asked for
  bool fell_back = false;  // a blocking mode gave up: SQLite finished it as PASSIVE
  int64_t duration_ms = 0;
  int64_t wal_bytes_before = 0;  // size of <db>-wal before and after (0 when absent)
  int64_t wal_bytes_after = 0;
};

// Runs sqlite3_wal_checkpoint_v2 on the main database of `conn` in `mode` (kNone is treated
// as PASSIVE). For FULL/RESTART/TRUNCATE the busy timeout of `conn` is set to `wait` (how
// long writers may stall) for the call and restored afterwards, whatever happens. When SQLite
// gives up waiting it has already completed the work as PASSIVE: the result is ok with
// busy=true and fell_back=true. PASSIVE never waits; busy=true then means another
// checkpoint was running. Not in WAL mode: ok with log and checkpointed frames -1.
// Errors: Failed when `conn` is inside a transaction; IO/corrupt/interrupt errors of SQLite.
Result<CheckpointResult> RunCheckpoint(Connection& conn, CheckpointMode mode, Millis wait);

// Details JSON of one checkpoint run (mode, busy, frames, sizes, duration_ms, fell_back).
nlohmann::json CheckpointDetails(const CheckpointResult& r);

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
