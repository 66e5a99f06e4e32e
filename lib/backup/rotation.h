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

// `must_keep` (the backup just made) is never deleted, whatever the times say.
Result<RotationResult> RotateBackups(const std::string& dir, const std::string& name,
                                     const std::string& source, int64_t keep,
                                     const std::string& must_keep);

}  // namespace maintd
