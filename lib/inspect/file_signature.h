#pragma once
// What a database's files show without opening the database: the change detector of the
// "work only where something changed" rule (lib/jobs/change_tracker.h, issue 14).
//
// Read with stat() on the main file and on `<db>-wal`, one pread of the WAL header (32
// bytes) and, only when no connection of this process is open on the database
// (lib/sqlite/open_files.h), one pread of the main file's 100-byte header.
//
// Why each part:
//   - WAL (exists, size, mtime, ctime, salts, checkpoint sequence): committed frames are
//     only ever appended, so every commit grows the file; a WAL restart writes a new header
//     whose salt-1 is incremented, so a same-size WAL after a restart still differs. Size
//     and salts catch a commit even within one mtime tick.
//   - main file (dev, inode, size, mtime, ctime): checkpoints, rollback-mode commits, a
//     file replaced by a restore (new inode).
//   - header change counter (offset 24), page count (28), freelist count (36): in rollback
//     mode every commit increments the change counter, which catches an in-place update
//     of the same size within one mtime tick; the counts feed the vacuum decision.
//
// Safety (SQLITE_FACTS.md "Locks and busy"): closing a descriptor drops every POSIX lock
// this process holds on that file. SQLite takes its POSIX locks on the main database file
// (pager and wal.c lock through the main file's handle: sqlite3OsLock(pWal->pDbFd, ...))
// and on the -shm (xShmLock); it never locks the -wal file itself (SQLite's own sandboxed
// VFS in Chromium checks that xLock is only ever called on the main database file). So our
// own descriptor on the -wal is harmless, while the main file is read only through
// ReadIfNoConnectionOpen. The -shm is never touched here.

#include <cstdint>
#include <optional>
#include <string>

#include "lib/inspect/db_header.h"

namespace maintd {

// The parts of a FileSignature that SameAs compares, and nothing else: what a
// ChangeTracker keeps of one database between runs (96 bytes instead of 184: the decoded
// header is never compared). Fields are ordered widest first so that no padding is wasted.
struct FileStamp {
  uint64_t dev = 0, ino = 0;  // main file
  int64_t size = 0, mtime_ns = 0, ctime_ns = 0;
  int64_t wal_size = 0, wal_mtime_ns = 0, wal_ctime_ns = 0;
  uint32_t wal_checkpoint_seq = 0, wal_salt1 = 0, wal_salt2 = 0;  // 0 below 32 bytes
  // The main file's header counters, read only when no connection of ours was open on it:
  // when header_known is false the stamp equals no other (the caller does the work).
  uint32_t change_counter = 0, page_count = 0, freelist_count = 0;
  bool exists = false;  // main file
  bool wal_exists = false;
  bool header_known = false;

  // True when both were read completely (header known on both sides) and every part is
  // the same: nothing was written to the database or its WAL in between. The WAL parts are
  // compared only when one side has frames (a WAL without frames holds nothing).
  bool SameAs(const FileStamp& other) const;
  // The WAL holds at least one frame (more than its 32-byte header): there may be
  // something to checkpoint.
  bool WalHasFrames() const { return wal_exists && wal_size > 32; }
  // One line for debug logs: sizes, counters, salts.
  std::string Describe() const;
};

struct FileSignature : FileStamp {
  // The main file's header decoded and checked (ParseDbHeader); nullopt when unknown or
  // not a sound header (then no job may conclude anything from it). Never compared by
  // SameAs: it is decoded from the counters' bytes and the stat part.
  std::optional<DbHeader> header;

  // The main file's header is the database's current state: known, sound, and no WAL
  // frame can hold a newer page 1.
  bool HeaderIsCurrent() const { return header.has_value() && !WalHasFrames(); }
  // The compared parts alone (what a ChangeTracker stores).
  const FileStamp& stamp() const { return *this; }
};

// Reads the signature of the database at `path` (never opens it through SQLite, never
// blocks on a lock). A missing file gives exists=false. Thread-safe.
FileSignature ReadFileSignature(const std::string& path);

}  // namespace maintd
