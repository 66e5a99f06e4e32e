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
// ReadDbHeader() reads the file with plain open()/close(): call it only on files this
// process has no SQLite connection to (backups, temp files), never on a live database.

#include <cstdint>
#include <string>

#include "lib/config/config.h"
#include "lib/core/status.h"

namespace maintd {

struct DbHeader {
  int64_t file_size = 0;
  int64_t page_size = 0;
  int64_t header_page_count = 0;    // bytes 28..31
  bool header_count_valid = false;  // change counter == version-valid-for (fileformat2)
  int read_version = 0;             // byte 18: 1 rollback journal, 2 WAL
  int write_version = 0;            // byte 19
  int64_t expected_size() const { return header_page_count * page_size; }
};

// Reads the 100-byte header. Corrupt when the file is not an SQLite database, its page size
// is invalid, or its size does not match the header (truncated or padded). An empty file
// (a valid empty database) gives page_size 0.
Result<DbHeader> ReadDbHeader(const std::string& path);

struct VerifyResult {
  std::string detail;  // "ok", or the first problems found
  int64_t duration_ms = 0;
};

// Verifies `path` per `mode`. Corrupt (with the problems in the message) when the file is
// damaged; IoError/NotFound when it cannot be read. Never modifies the file.
Result<VerifyResult> VerifyBackupFile(const std::string& path, VerifyMode mode);

}  // namespace maintd
