#pragma once
// The online backup: a consistent copy of a live database that completes while other
// processes keep writing, then verified and renamed into place (catalog.h names the files).
//
// Method, chosen per run:
//   - file copy (snapshot_copy.h), the default: the snapshot is pinned under one read
//     transaction on the source, then the main file is copied in chunks and the pages the
//     snapshot has in the WAL are written over it from their frames. About the speed of
//     `cp`: one read and one write per chunk instead of one per page.
//   - page copy, when the snapshot cannot be pinned that way (read-only database, no shared
//     memory, an unexpected wal-index: logged at info with the reason) or when asked: SQLite's
//     backup API stepped in chunks under the same kind of read transaction. Because the
//     source connection already has a read transaction, sqlite3_backup_step() neither opens
//     nor closes one and never restarts: it finishes under any write rate like a one-shot
//     backup_step(-1), but can stop between chunks. CPU-bound: one read and write per page.
// Both give a page-for-page copy: WAL mode, page size, auto_vacuum and free pages are kept, so
// a restored file behaves exactly like the original. VACUUM INTO was not chosen: it
// rebuilds every table and index (CPU-bound, slower on large files), writes a rollback-mode
// file (a restore would silently take a WAL application out of WAL mode) and cannot be
// stopped midway. Both honour the stop token and deadline between chunks.
//
// In WAL mode the copy never blocks writers (the file copy holds the write lock for the
// millisecond it takes to pin the snapshot); checkpoints cannot pass our snapshot while it
// runs (the WAL grows by what is written meanwhile and is reset by the next checkpoint). In
// rollback-journal mode the read transaction holds SHARED for the whole copy and writers
// wait: SQLite's limit, logged as a warning.
//
// Checkpoints of the database are paused while a backup runs because nothing else of ours
// touches it meanwhile: the daemon never overlaps jobs of one database, and the one-shot
// `backup` command holds the maintainer lock. (The application's own PASSIVE
// auto-checkpoints continue and simply stop at our snapshot.)
//
// The final flush of a large file stalls the application's commits (SQLITE_FACTS.md), so the
// destination is written with synchronous=OFF and, after every chunk, its dirty pages are
// handed to the disk with sync_file_range(WAIT_BEFORE|WRITE) (fdatasync where that is not
// supported): at most about two chunks are ever in flight and the final fsync is short.
//
// Flow: free-disk check -> `.<name>-<stamp>.db.tmp` created 0600 -> copy -> fsync file and
// directory -> verify (verify.h) -> chmod -> sidecar -> rename to `<name>-<stamp>.db`
// (never replacing) -> fsync directory. Any failure removes the temp file: a backup that
// fails verification never appears under a backup name.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/progress.h"
#include "lib/core/status.h"
#include "lib/sqlite/connection.h"
#include "lib/sqlite/stop_token.h"

namespace maintd {

enum class BackupMethod {
  kAuto,      // file copy when the snapshot can be pinned, else page copy
  kPageCopy,  // always SQLite's backup API (tests compare the two)
};

struct BackupOptions {
  std::string dir;   // destination directory; created (0700) when missing
  std::string name;  // backup file prefix: the database's name
  VerifyMode verify = VerifyMode::kQuick;
  // Free space needed in `dir`: max(factor x database size, size + margin). The copy is as
  // large as the database; the factor leaves room for the next backup and for growth.
  double min_free_disk_factor = 2.0;
  int64_t free_disk_margin = 64LL << 20;
  int64_t chunk_bytes = 2LL << 20;  // copied per step, then written back to disk
  int64_t mmap_bytes = 0;  // page copy: PRAGMA mmap_size on the source meanwhile; 0 = off
  BackupMethod method = BackupMethod::kAuto;
  // Free bytes available in `dir`; empty = statvfs. Tests inject values here.
  std::function<Result<int64_t>(const std::string& dir)> free_bytes;
  // Told "copy" after every chunk (bytes of the snapshot written, file copy; pages copied
  // of the snapshot's, page copy), then the phases "sync" and "verify" (no measure). May be
  // null.
  ProgressSink* progress = nullptr;
};

struct BackupResult {
  std::string path;    // final backup file
  std::string source;  // database path
  SystemTime snapshot;
  int64_t bytes = 0;
  int64_t page_size = 0;
  int64_t page_count = 0;
  std::string journal_mode;
  std::string method;  // "file" or "page"
  int64_t steps = 0;
  int64_t copy_ms = 0;  // backup steps
  int64_t sync_ms = 0;  // final fsync of file and directory
  int64_t verify_ms = 0;
  int64_t duration_ms = 0;
  std::string verify;         // none | quick | full
  std::string verify_result;  // "ok"
  int64_t free_bytes = 0;     // in dir before the copy
  int64_t required_bytes = 0;
};

// Backs up the database open on `source` (read-write or read-only; it must have no
// transaction open) into options.dir. Errors: Refused (not enough disk), Busy (could not
// start a read transaction past busy_timeout), Interrupted (stop or deadline), Failed
// (verification failed; the copy was removed), IoError. The deadline and the pauses between
// busy retries are on `clock`. Blocking: run it on a worker thread.
Result<BackupResult> TakeBackup(
    Connection& source, const BackupOptions& options, const Clock& clock, StopToken* stop = nullptr,
    std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

}  // namespace maintd
