#pragma once
// The checkpoint primitive: one sqlite3_wal_checkpoint_v2 call with a bounded wait, shared by
// the checkpoint job (lib/jobs/checkpoint.h), the vacuum's final checkpoint, the shutdown
// path and the CLI `checkpoint` command.

#include <cstdint>
#include <nlohmann/json.hpp>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/status.h"
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
// as PASSIVE). A blocking mode runs after a PASSIVE pass, whose figures it reports when its
// own say nothing true: after a successful TRUNCATE/RESTART (SQLite: 0/0) log_frames and
// checkpointed_frames are the frames the log held, all copied back; after one that gave up
// and reported -1/-1, the PASSIVE pass's. For FULL/RESTART/TRUNCATE the busy timeout of `conn` is set to `wait` (how
// long writers may stall) for the call and restored afterwards, whatever happens. When SQLite
// gives up waiting it has already completed the work as PASSIVE: the result is ok with
// busy=true and fell_back=true. PASSIVE never waits; busy=true then means another
// checkpoint was running. Not in WAL mode: ok with log and checkpointed frames -1.
// Errors: Failed when `conn` is inside a transaction; IO/corrupt/interrupt errors of SQLite.
Result<CheckpointResult> RunCheckpoint(Connection& conn, CheckpointMode mode, Millis wait);

// Details JSON of one checkpoint run (mode, busy, frames, sizes, duration_ms, fell_back).
nlohmann::json CheckpointDetails(const CheckpointResult& r);

}  // namespace maintd
