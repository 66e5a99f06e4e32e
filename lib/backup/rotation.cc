#include "lib/backup/rotation.h"

#include <algorithm>

#include "lib/backup/catalog.h"
#include "lib/backup/file_util.h"

namespace maintd {

Result<RotationResult> RotateBackups(const std::string& dir, const std::string& name,
                                     const std::string& source, int64_t keep,
                                     const std::string& must_keep) {
  auto entries = ListBackups(dir, name, source);
  if (!entries.ok()) return entries.status();
  keep = std::max<int64_t>(keep, 1);
  RotationResult result;
  int64_t good = 0;
  // Newest first: the first `keep` verified ones stay.
  for (const BackupEntry& e : *entries) {
    if (!e.verified) {
      result.unverified.push_back(e.path);
      continue;
    }
    if (good < keep || e.path == must_keep) {
      ++good;
      continue;
    }
    // Backup first, sidecar last: a crash in between leaves a sidecar without its backup
    // (RemoveStaleBackupFiles clears it), never a listed backup with a missing file.
    MAINTD_RETURN_IF_ERROR(RemoveIfExists(e.path));
    MAINTD_RETURN_IF_ERROR(RemoveIfExists(SidecarPath(e.path)));
    result.deleted.push_back(e.path);
  }
  result.kept = good;
  if (!result.deleted.empty()) MAINTD_RETURN_IF_ERROR(FsyncDir(dir));
  return result;
}

}  // namespace maintd
