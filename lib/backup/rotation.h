#pragma once
// Retention of backups: keep the newest `keep` verified backups of a database, delete older
// verified ones (file and sidecar). Unverified files are never counted and never deleted
// (they are not provably ours or may be an operator's copy); they are reported so the
// operator can look. Rotation runs only after a new backup passed verification, so a failed
// or corrupt backup can never push good ones out, and `keep` below 1 counts as 1: the only
// good backup is never deleted.
//
// Call only while holding the database's maintainer lock.

#include <cstdint>
#include <string>
#include <vector>

#include "lib/core/status.h"

namespace maintd {

struct RotationResult {
  std::vector<std::string> deleted;     // backup paths removed (with their sidecars)
  int64_t kept = 0;                     // verified backups left
  std::vector<std::string> unverified;  // files matching the name left alone
};

// Deletes one backup (in `dir`) and its sidecar without freeing all of its blocks in one
// file-system commit: on ext4 mounted with `discard`, freeing a whole database at once slows
// other processes' fsyncs on that disk (docs/performance.md). The file is renamed to its temp
// name first, so a crash part-way leaves only what RemoveStaleBackupFiles clears (a temp
// file, an orphan sidecar), never a half-truncated file under a backup name; then it shrinks
// by `step` bytes per fdatasync, is unlinked, and its sidecar removed.
Status DeleteBackupGently(const std::string& dir, const std::string& path,
                          int64_t step = 64LL << 20);

// `must_keep` (the backup just made) is never deleted, whatever the times say.
Result<RotationResult> RotateBackups(const std::string& dir, const std::string& name,
                                     const std::string& source, int64_t keep,
                                     const std::string& must_keep);

}  // namespace maintd
