#pragma once
// `restore [--force] BACKUP DB` (CONTRACT.md section 6). In order:
//  1. verify the backup: header against size, then integrity_check (a corrupt or truncated
//     file is refused: Corrupt, exit 1; nothing has been touched yet). A backup with a
//     non-empty -wal beside it is refused (its content would not be restored), except a
//     pre-restore copy (`<db>.pre-restore-<stamp>`, step 4): its -wal is part of the old
//     state, so it is folded into a temp copy (`<copy>.merge-tmp`, removed after) that is
//     verified and restored: the runbook's undo of a forced restore.
//  2. take the maintainer lock of DB (LockHeld, exit 75, while the daemon or another
//     one-shot command maintains it).
//  3. refuse (Refused, exit 1) when DB has a -wal or -journal with content, or another
//     process has it open (in_use.h), unless `force`.
//  4. copy the current DB to `<db>.pre-restore-<UTC stamp>` byte for byte, fsynced (a
//     non-empty -wal / -journal is kept beside it as `<copy>-wal` / `<copy>-journal`, which
//     is where SQLite looks for them, so opening the copy shows the previous state).
//  5. with `force` only: remove DB's -wal, -shm and -journal (stale files would be applied to
//     the restored database and corrupt it).
//  6. copy the backup to `<db>.restore-tmp`, fsync, check it, rename over DB, fsync the dir.
// The restored file gets the previous database's mode (and owner, when we may set it); a
// restore to a new path gets 0600.
//
// Restoring over a database whose last integrity result is critical is allowed: it is the
// recovery procedure, and the damaged file is kept as the pre-restore copy.
//
// The caller must have no SQLite connection open to DB (plain file calls are made on it).

#include <cstdint>
#include <string>
#include <vector>

#include "lib/core/clock.h"
#include "lib/core/progress.h"
#include "lib/core/status.h"

namespace maintd {

struct RestoreOptions {
  bool force = false;
  std::string lock_dir;  // the maintainer lock's directory ("" = beside the database)
  bool lock_held = false;  // the caller holds the maintainer lock already (step 2 skipped)
  const Clock* clock = &RealClock::Instance();
  // Told the phases: "verify_backup" (integrity_check, no measure), "keep_previous" and
  // "copy" (bytes copied of the file's size). May be null.
  ProgressSink* progress = nullptr;
};

struct RestoreResult {
  int64_t bytes = 0;
  std::string pre_restore_path;          // "" when DB did not exist
  std::vector<std::string> removed;      // stale -wal/-shm/-journal removed (force)
  std::vector<std::string> forced_past;  // what --force overrode
  std::string verify_result;             // "ok"
};

Result<RestoreResult> RestoreBackup(const std::string& backup_path, const std::string& db_path,
                                    const RestoreOptions& options);

}  // namespace maintd
