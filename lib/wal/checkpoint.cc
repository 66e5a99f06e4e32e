#include "lib/wal/checkpoint.h"

#include <sqlite3.h>

#include <chrono>

#include "lib/inspect/db_stats.h"
#include "lib/sqlite/busy_timeout.h"

namespace maintd {
namespace {

int SqliteMode(CheckpointMode mode) {
  switch (mode) {
    case CheckpointMode::kFull:
      return SQLITE_CHECKPOINT_FULL;
    case CheckpointMode::kRestart:
      return SQLITE_CHECKPOINT_RESTART;
    case CheckpointMode::kTruncate:
      return SQLITE_CHECKPOINT_TRUNCATE;
    case CheckpointMode::kNone:
    case CheckpointMode::kPassive:
      break;
  }
  return SQLITE_CHECKPOINT_PASSIVE;
}

}  // namespace

Result<CheckpointResult> RunCheckpoint(Connection& conn, CheckpointMode mode, Millis wait) {
  if (conn.InTransaction()) {
    return Status::Failed("checkpoint refused: the connection is inside a transaction");
  }
  // A connection that has not read the database yet has not opened the WAL: in 3.40
  // sqlite3_wal_checkpoint_v2 then does nothing and reports -1/-1. One read opens it.
  auto opened = conn.QueryInt("PRAGMA schema_version");
  if (!opened.ok()) return opened.status();
  CheckpointResult result;
  result.mode_used = mode == CheckpointMode::kNone ? CheckpointMode::kPassive : mode;
  const std::string wal_path = conn.path() + "-wal";
  result.wal_bytes_before = FileSize(wal_path);
  auto start = std::chrono::steady_clock::now();
  // A PASSIVE pass first: it never waits, does the copying, and its figures are the true
  // ones (a successful TRUNCATE or RESTART reports 0/0, the log having been reset, and one
  // that gave up may report -1/-1: SQLITE_FACTS.md, "Checkpoints").
  int log = -1, done = -1;
  int rc = sqlite3_wal_checkpoint_v2(conn.raw(), "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  if (rc == SQLITE_OK && result.mode_used != CheckpointMode::kPassive) {
    const int passive_log = log, passive_done = done;
    ScopedBusyTimeout guard(conn, wait);
    rc = sqlite3_wal_checkpoint_v2(conn.raw(), "main", SqliteMode(result.mode_used), &log, &done);
    bool resets = result.mode_used == CheckpointMode::kTruncate ||
                  result.mode_used == CheckpointMode::kRestart;
    if (rc == SQLITE_OK && resets) {
      // The log was reset: every frame it had was copied back.
      log = passive_log;
      done = passive_log;
    } else if ((rc & 0xff) == SQLITE_BUSY && (log < 0 || done < 0)) {
      log = passive_log;  // gave up, finished as PASSIVE: that pass's figures
      done = passive_done;
    }
  }
  result.duration_ms =
      std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start).count();
  if ((rc & 0xff) == SQLITE_BUSY) {
    result.busy = true;
    result.fell_back = result.mode_used != CheckpointMode::kPassive;
  } else if (rc != SQLITE_OK) {
    return conn.Error(rc, std::string("wal_checkpoint(") + ToString(result.mode_used) + ")");
  }
  result.log_frames = log;
  result.checkpointed_frames = done;
  result.wal_bytes_after = FileSize(wal_path);
  return result;
}

nlohmann::json CheckpointDetails(const CheckpointResult& r) {
  return {{"mode", ToString(r.mode_used)},
          {"busy", r.busy},
          {"log_frames", r.log_frames},
          {"checkpointed_frames", r.checkpointed_frames},
          {"wal_bytes_before", r.wal_bytes_before},
          {"wal_bytes_after", r.wal_bytes_after},
          {"duration_ms", r.duration_ms},
          {"fell_back", r.fell_back}};
}

}  // namespace maintd
