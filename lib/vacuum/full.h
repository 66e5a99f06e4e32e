#pragma once
// Full VACUUM (in place, optionally switching auto_vacuum to INCREMENTAL) and VACUUM INTO.
//
// A full VACUUM rebuilds the whole database: it holds the write lock for its whole
// duration (writers wait; in rollback mode readers too), needs up to 2x the database size
// of free disk (a temp copy in SqliteTempDir(), and in WAL mode a WAL that grows to about
// the database size), and once it reaches its copy-back phase it can no longer be
// interrupted. So it is only ever run on request (CLI), on a policy that allows it
// (convert_auto_vacuum, full_when_no_auto_vacuum) or at shutdown when its predicted time
// fits (predict.h); and it is refused:
//   - on a Litestream database (a `_litestream_seq` table) when in place;
//   - when free disk in the database's directory (or VACUUM INTO's target directory) or in
//     the temp directory is below min_free_disk_factor x the database size (main file +
//     WAL).
// VACUUM INTO only reads the database (one read transaction, writers keep going) and
// writes a compacted copy in rollback-journal mode; the target must not exist.
// Refusing a database known to be corrupt is the caller's job (MaintainedDatabase).

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "lib/core/clock.h"
#include "lib/core/progress.h"
#include "lib/core/status.h"
#include "lib/inspect/db_stats.h"
#include "lib/sqlite/connection.h"
#include "lib/sqlite/stop_token.h"

namespace maintd {

struct FullVacuumOptions {
  std::string into;                     // "" = in place; else VACUUM INTO this path
  bool convert_to_incremental = false;  // in place: PRAGMA auto_vacuum=INCREMENTAL first
  double min_free_disk_factor = 2.0;
  std::string temp_dir;        // "" = SqliteTempDir()
  Millis checkpoint_wait{50};  // busy timeout of the TRUNCATE checkpoint after
  // Told the phase only ("full_vacuum" or "vacuum_into", then "checkpoint"; total 0): SQLite
  // gives no measure of a VACUUM's rebuild. May be null.
  ProgressSink* progress = nullptr;
};

// The free-disk rule: one entry per directory checked.
struct DiskCheck {
  std::string dir;
  int64_t free_bytes = 0;
  int64_t needed_bytes = 0;
  bool ok() const { return free_bytes >= needed_bytes; }
};

// Checks every rule above for `stats` (read from the database to vacuum) without changing
// anything. Refused with a message naming the rule (and the directory and figures for the
// disk rule); InvalidArgument when the VACUUM INTO target exists.
Status CheckFullVacuumAllowed(const std::string& db_path, const DbStats& stats,
                              const FullVacuumOptions& options,
                              std::vector<DiskCheck>* checks = nullptr);

struct FullVacuumOutcome {
  Status status;         // Refused (rules), Busy, Interrupted (rolled back), or an SQLite error
  bool started = false;  // the rules passed and VACUUM was issued
  int64_t page_size = 0;
  int64_t pages_before = 0;
  int64_t pages_after = 0;  // of the database, or of the copy for VACUUM INTO
  int64_t freelist_before = 0;
  int64_t freelist_after = 0;
  int64_t bytes_before = 0;  // main file size (+ for the rate: the data VACUUM rewrote)
  int64_t bytes_after = 0;   // main file after the final checkpoint, or the copy's size
  int64_t duration_ms = 0;
  int64_t auto_vacuum_after = -1;
  bool checkpoint_busy = false;
  int64_t pages_freed() const { return std::max<int64_t>(0, pages_before - pages_after); }
  int64_t bytes_freed() const { return bytes_before - bytes_after; }
};

// Runs the checks, then VACUUM (or VACUUM INTO ?), then in WAL mode a PASSIVE+TRUNCATE
// checkpoint so the file shrinks and the WAL goes back to empty. `conn` must be outside a
// transaction with no unfinished statement, and registered with `stop` (Abort() interrupts
// the rebuild; the copy-back ignores it). The final checkpoint's retries pause on `clock`.
// Blocking.
FullVacuumOutcome RunFullVacuum(Connection& conn, const FullVacuumOptions& options, StopToken& stop,
                                const Clock& clock = RealClock::Instance());

}  // namespace maintd
