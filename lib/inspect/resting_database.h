#pragma once
// Reading a database "at rest" without SQLite's locks, -wal or -shm: for `status` over
// thousands of tenants (issue 14), where a normal read-only connection creates the -wal
// and -shm of every idle WAL database (and leaves them: a read-only connection cannot
// remove them), which costs far more than the read itself.
//
// At rest means, from the files alone: the header reads (db_header.h) and the file is not
// empty; the -wal is absent or empty (so the main file holds every committed page: the
// header is the newest one, never the stale copy that a WAL with page 1 in it leaves
// behind); no rollback journal with content (no write in progress); and the main file was
// last modified at least `settle` ago.
//
// ReadWhileAtRest then opens the database with `immutable=1` (no locks, nothing created),
// runs the caller's read, closes it, and reads the file signature again
// (file_signature.h): the read counts only when nothing changed. Why that is enough: any
// write of a WAL database first appends to the -wal (its size changes) and reaches the
// main file only by a checkpoint; a rollback-mode write changes the main file in place
// while a -journal exists (or, without a journal file, changes its header counter). A
// main-file write stamps its mtime with the current (coarse) time, which differs from the
// old mtime by at least `settle`, so no write between the two signatures goes unseen. A
// file replaced by a restore has a new inode. When anything differs the caller discards
// the read and uses a normal read-only connection.
//
// Safety: read-only, writes nothing, takes no lock (never delays a writer or a
// checkpoint). The header is read through ReadIfNoConnectionOpen
// (lib/sqlite/open_files.h), the one door for plain reads of a database file, so never
// beside an open connection of this process on it.
//
// Thread-safety: both functions are thread-safe (for different or the same paths).

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/inspect/db_header.h"
#include "lib/inspect/file_signature.h"
#include "lib/sqlite/connection.h"

namespace maintd {

// How long the main file must have been left alone before it counts as at rest.
inline constexpr std::chrono::milliseconds kRestSettle{2000};

struct RestingDatabase {
  DbHeader header;           // page size and counts: current (the WAL is empty)
  FileSignature signature;   // what ReadWhileAtRest compares with afterwards
};

// The header and signature of `path` when it is at rest at `now`; nullopt when it is not
// (busy, WAL frames, missing, empty, unreadable or not a database): the caller then uses
// a normal connection, which also reports the error if there is one.
std::optional<RestingDatabase> ReadIfAtRest(const std::string& path, SystemTime now,
                                            std::chrono::milliseconds settle = kRestSettle);

// Opens `path` immutable, runs `read` on that connection (used by this thread only, closed
// before this returns), then compares the file signature with `before`. Returns true when
// the read ran and nothing changed; false when the files changed meanwhile (discard what
// `read` produced); an error when the open or `read` failed.
Result<bool> ReadWhileAtRest(const std::string& path, const RestingDatabase& before,
                             const std::function<Status(Connection&)>& read);

}  // namespace maintd
