#pragma once
// Verification of a backup file: the header agrees with the file size (a truncated copy is
// caught before SQLite reads past its end), then, per backup.verify,
//   none  -> open it and read the schema,
//   quick -> PRAGMA quick_check   (O(N)),
//   full  -> PRAGMA integrity_check (O(N log N)).
// The file is opened through SQLite read-only with `immutable=1`: no locks, no -wal/-shm
// files created beside it, nothing written. Only the main file is checked (a -wal beside a
// backup is ignored: restore copies the main file only, so that is what must be good).
//
// ReadDbHeader() (lib/inspect/db_header.h) reads the file with plain open()/close(): call
// it only on files this process has no SQLite connection to (backups, temp files).

#include <cstdint>
#include <string>

#include "lib/config/config.h"
#include "lib/core/status.h"
#include "lib/inspect/db_header.h"  // ReadDbHeader

namespace maintd {

struct VerifyResult {
  std::string detail;  // "ok", or the first problems found
  int64_t duration_ms = 0;
};

// Verifies `path` per `mode`. Corrupt (with the problems in the message) when the file is
// damaged; IoError/NotFound when it cannot be read. Never modifies the file.
Result<VerifyResult> VerifyBackupFile(const std::string& path, VerifyMode mode);

}  // namespace maintd
