#include "lib/backup/rotation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "lib/backup/catalog.h"
#include "lib/backup/file_util.h"

namespace maintd {

Status DeleteBackupGently(const std::string& dir, const std::string& path, int64_t step) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  std::string temp = dir + "/" + BackupTempName(base);
  MAINTD_RETURN_IF_ERROR(RenameNoReplace(path, temp));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    off_t size = ::fstat(fd, &st) == 0 ? st.st_size : 0;
    while (step > 0 && size > step) {
      size -= step;
      if (::ftruncate(fd, size) != 0 || ::fdatasync(fd) != 0) break;  // unlink does the rest
    }
    ::close(fd);
  }
  MAINTD_RETURN_IF_ERROR(RemoveIfExists(temp));
  return RemoveIfExists(SidecarPath(path));
}

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
    MAINTD_RETURN_IF_ERROR(DeleteBackupGently(dir, e.path));
    result.deleted.push_back(e.path);
  }
  result.kept = good;
  if (!result.deleted.empty()) MAINTD_RETURN_IF_ERROR(FsyncDir(dir));
  return result;
}

}  // namespace maintd
