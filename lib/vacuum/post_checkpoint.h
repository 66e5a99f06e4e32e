#pragma once
// The checkpoint that follows a vacuum: in WAL mode the main file shrinks only when a
// checkpoint copies the vacuum's last commit back (SQLITE_FACTS.md, Vacuum).

#include <cstdint>
#include <optional>

#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/sqlite/connection.h"
#include "lib/sqlite/stop_token.h"

namespace maintd {

struct WalCheckpointResult {
  bool busy = false;        // not every frame could be copied back (a reader or writer in the way)
  int64_t log_frames = -1;  // frames in the WAL (-1 when not in WAL mode)
  int64_t checkpointed = -1;
};

// One sqlite3_wal_checkpoint_v2 PASSIVE: never waits, never blocks writers.
Result<WalCheckpointResult> PassiveCheckpoint(Connection& conn);

// PASSIVE (retried up to 25 times, 20 ms apart on `clock`, while it cannot copy every frame
// back, e.g. because an application's autocheckpoint is running; a stop or the deadline
// ends the retries), then TRUNCATE with the connection's busy timeout set to `wait` for that
// call only (writers wait at most about that long while TRUNCATE waits for its locks; when
// it gives up SQLite finishes as PASSIVE). Returns the TRUNCATE's result, with busy only
// when neither call copied every frame back (the file has not shrunk yet), or the PASSIVE
// one when `wait` is 0. Must be called outside a transaction. No-op result (-1/-1) on a
// database not in WAL mode.
Result<WalCheckpointResult> CheckpointAfterVacuum(
    Connection& conn, Millis wait, StopToken& stop, const Clock& clock = RealClock::Instance(),
    std::optional<SteadyTime> deadline = std::nullopt);

}  // namespace maintd
