#pragma once
// The fast backup path: a consistent copy of a live database made from its own files, at
// the speed of a plain file copy, without SQLite reading and writing it page by page.
//
// A snapshot of a WAL database is the main file overlaid with, for each page, its latest WAL
// frame up to the snapshot's last frame (mxFrame). PinSnapshot() takes the database's write
// lock through a second, short-lived connection (BEGIN IMMEDIATE: no commit can happen),
// starts the caller's read transaction on `source` (begin_read), reads mxFrame, the page
// count and the backfill mark from the wal-index through SQLite's own shared-memory mapping
// (xShmMap: our snapshot is exactly that header, because nothing can commit meanwhile), and
// releases the write lock: writers are held for a millisecond or two, never for the copy.
// While `source` keeps that read transaction open:
//   - a checkpoint can write into the main file only frames <= our mxFrame, i.e. pages that
//     the overlay rewrites anyway (pages read torn while it wrote them included);
//   - the WAL cannot be restarted over frames 1..mxFrame (our read mark blocks it), unless
//     all of them were already backfilled when we pinned, in which case the main file alone
//     is the snapshot and the WAL is not read at all;
//   - the main file shrinks only to the snapshot's own size.
// In rollback-journal mode the read transaction holds SHARED: the main file is the snapshot
// and no writer can change it (writers wait, SQLite's limit).
//
// Every read of the database's files goes through SQLite's own open file handles
// (SQLITE_FCNTL_FILE_POINTER / JOURNAL_POINTER): opening and closing a descriptor of our own
// would drop the POSIX locks SQLite holds on those files in this process (howtocorrupt.html
// 2.2). Whatever cannot be pinned this way (a read-only database, no shared-memory wal-index,
// an unexpected wal-index, the write lock held by someone else for over a second) falls back
// to the page copy (online_backup.h) with a reason.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lib/core/status.h"
#include "lib/sqlite/connection.h"

namespace maintd {

struct PinnedSnapshot {
  // False: copy this snapshot page by page (the read transaction is open all the same).
  bool file_copy = false;
  std::string fallback_reason;  // why not, for the log
  std::string journal_mode;
  int64_t page_size = 0;
  int64_t page_count = 0;      // pages in the snapshot
  uint32_t wal_frames = 0;     // the snapshot's mxFrame; 0 = the main file alone
  uint32_t backfilled = 0;     // frames already written back into the main file
  // (page number, WAL frame) of every page whose snapshot version the overlay writes,
  // sorted by page number. Empty when the main file alone is the snapshot.
  std::vector<std::pair<uint32_t, uint32_t>> overlay;
};

// Starts the read transaction on `source` by calling begin_read() (which must BEGIN and
// read, so that the snapshot is taken) and pins it as above. `source` must have no
// transaction open. On success the read transaction is open, whatever `file_copy` says; on
// error it may be open too (the caller ends it). Errors: those of begin_read (Busy when the
// read transaction cannot start within source's busy_timeout) and of reading the WAL.
// allow_file_copy = false only starts the read transaction and asks for the page copy.
Result<PinnedSnapshot> PinSnapshot(Connection& source, const std::function<Status()>& begin_read,
                                   bool allow_file_copy = true);

// Writes the pinned snapshot of `source` (still inside the read transaction PinSnapshot
// opened) as one database file of page_count x page_size bytes through `write(data, n,
// offset)`, in pieces of at most chunk_bytes; after_chunk() runs after each piece and may
// stop the copy by returning an error. The destination must start empty. IoError when a
// source file cannot be read or does not hold what the wal-index promised.
Status CopyPinnedSnapshot(Connection& source, const PinnedSnapshot& snapshot, int64_t chunk_bytes,
                          const std::function<Status(const void*, int64_t, int64_t)>& write,
                          const std::function<Status()>& after_chunk);

}  // namespace maintd
