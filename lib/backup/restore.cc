#include "lib/backup/restore.h"

#include <limits.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "lib/backup/file_util.h"
#include "lib/backup/in_use.h"
#include "lib/backup/verify.h"
#include "lib/core/maintainer_lock.h"
#include "lib/inspect/db_stats.h"
#include "lib/sqlite/connection.h"

namespace maintd {
namespace {

std::string Bytes(int64_t n) { return std::to_string(n) + " bytes"; }

// `<db>.pre-restore-<stamp>`, a second later per collision.
std::string PreRestorePath(const std::string& db, SystemTime now) {
  std::string path;
  for (int i = 0; i < 3600; ++i) {
    path = db + ".pre-restore-" + FormatCompactUtc(now + std::chrono::seconds(i));
    if (!FileExists(path)) break;
  }
  return path;
}

Status VerifyBackup(const std::string& backup, RestoreResult* result) {
  if (!FileExists(backup)) return Status::NotFound("backup " + backup + " does not exist");
  int64_t wal = FileSize(backup + "-wal");
  if (wal > 0) {
    return Status::Refused("backup " + backup + " has a " + Bytes(wal) +
                           " -wal file beside it (it was opened read-write after it was "
                           "taken); its content would not be restored. Open it once with "
                           "sqlite3 and run PRAGMA wal_checkpoint(TRUNCATE), or pick another "
                           "backup");
  }
  auto verified = VerifyBackupFile(backup, VerifyMode::kFull);
  if (!verified.ok()) {
    const Status& s = verified.status();
    if (s.code() == StatusCode::kCorrupt) {
      return Status::Corrupt("backup " + backup +
                             " is damaged, nothing was changed: " + s.message());
    }
    return s;
  }
  result->verify_result = verified->detail;
  return Status::Ok();
}

bool IsPreRestoreCopy(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  return name.find(".pre-restore-") != std::string::npos && name.find("-tmp") == std::string::npos;
}

// Removes `path` and its -wal and -shm on destruction (the merged copy below).
struct RemovedOnExit {
  std::string path;
  ~RemovedOnExit() {
    if (path.empty()) return;
    for (const char* suffix : {"", "-wal", "-shm"}) (void)RemoveIfExists(path + suffix);
  }
};

// A pre-restore copy keeps the old database's -wal beside it (step 4), and undoing a
// restore restores that copy: its -wal is part of it. Copies the pair to
// `<copy>.merge-tmp` (+ -wal), checkpoints the WAL into that file and closes it (SQLite
// removes the -wal); the caller restores from the result and `cleanup` removes it.
Result<std::string> MergePreRestoreWal(const std::string& copy, RemovedOnExit* cleanup) {
  std::string merged = copy + ".merge-tmp";
  cleanup->path = merged;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    MAINTD_RETURN_IF_ERROR(RemoveIfExists(merged + suffix));
  }
  for (const char* suffix : {"", "-wal"}) {
    auto copied = CopyFileDurable(copy + suffix, merged + suffix, 0600);
    if (!copied.ok()) return copied.status();
  }
  {
    auto conn = Connection::Open(merged);
    if (!conn.ok()) return conn.status();
    MAINTD_RETURN_IF_ERROR(conn->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  }  // the last connection closes: SQLite deletes the -wal
  if (FileSize(merged + "-wal") > 0) {
    return Status::IoError("could not fold " + copy + "-wal into a copy of " + copy);
  }
  return merged;
}

}  // namespace

Result<RestoreResult> RestoreBackup(const std::string& backup, const std::string& db_arg,
                                    const RestoreOptions& options) {
  RestoreResult result;
  // Through a symlink, replace the file it points to, not the link.
  std::string db = db_arg;
  char resolved[PATH_MAX];
  if (::realpath(db_arg.c_str(), resolved) != nullptr) db = resolved;
  struct stat bst {
  }, dst{};
  if (::stat(backup.c_str(), &bst) == 0 && ::stat(db.c_str(), &dst) == 0 &&
      bst.st_dev == dst.st_dev && bst.st_ino == dst.st_ino) {
    return Status::InvalidArgument(backup + " is the database itself");
  }
  // 1. The backup must be good before anything is touched. A pre-restore copy with its
  // -wal (the runbook's undo of a forced restore) is restored with that -wal's content.
  ReportProgress(options.progress, "verify_backup", 0, 0, "pages");
  std::string source = backup;
  RemovedOnExit merged_copy;
  if (FileSize(backup + "-wal") > 0 && IsPreRestoreCopy(backup)) {
    auto merged = MergePreRestoreWal(backup, &merged_copy);
    if (!merged.ok()) return merged.status();
    source = *merged;
  }
  MAINTD_RETURN_IF_ERROR(VerifyBackup(source, &result));
  const int64_t backup_bytes = FileSize(source);

  // 2. One maintainer at a time.
  std::optional<MaintainerLock> lock;
  if (!options.lock_held) {
    auto taken = MaintainerLock::Acquire(db_arg, options.lock_dir);
    if (!taken.ok()) return taken.status();
    lock.emplace(std::move(taken).value());
  }

  // 3. Not while the database is in use or has content outside the main file.
  const bool exists = FileExists(db);
  std::vector<std::string> problems;
  for (const char* suffix : {"-wal", "-journal"}) {
    int64_t n = FileSize(db + suffix);
    if (n > 0) problems.push_back(db + suffix + " has " + Bytes(n));
  }
  InUseReport users = FindDatabaseUsers(db);
  if (users.in_use()) problems.push_back(users.Describe());
  if (!problems.empty()) {
    std::string joined;
    for (const auto& p : problems) joined += (joined.empty() ? "" : "; ") + p;
    if (!options.force) {
      return Status::Refused("refusing to restore over " + db + ": " + joined +
                             ". Stop the application and anything else using the database "
                             "first; --force restores anyway (and removes its -wal, -shm "
                             "and -journal)");
    }
    result.forced_past = problems;
    spdlog::warn("restore over {} forced past: {}", db, joined);
  }

  // 4. Keep the current database, byte for byte.
  mode_t mode = 0600;
  if (exists) {
    auto m = FileMode(db);
    if (!m.ok()) return m.status();
    mode = *m;
    result.pre_restore_path = PreRestorePath(db, options.clock->Now());
    // Copied under a temp name and renamed last: a restore killed mid-copy never leaves a
    // partial file under the pre-restore name (the crash tests found one).
    std::string copy_tmp = db + ".pre-restore-tmp";
    MAINTD_RETURN_IF_ERROR(RemoveIfExists(copy_tmp));  // a crashed restore's (we hold the lock)
    auto copied = CopyFileDurable(db, copy_tmp, mode, options.progress, "keep_previous");
    if (!copied.ok()) return copied.status();
    for (const char* suffix : {"-wal", "-journal"}) {
      if (FileSize(db + suffix) <= 0) continue;
      auto side = CopyFileDurable(db + suffix, result.pre_restore_path + suffix, mode);
      if (!side.ok()) return side.status();
    }
    if (::rename(copy_tmp.c_str(), result.pre_restore_path.c_str()) != 0) {
      Status s = Status::IoError("rename " + copy_tmp + " to " + result.pre_restore_path +
                                 ": " + std::strerror(errno));
      (void)RemoveIfExists(copy_tmp);
      return s;
    }
    MAINTD_RETURN_IF_ERROR(FsyncDir(DirName(db)));
  }

  // 5. Stale side files would be applied to the restored file: only with --force.
  if (options.force) {
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
      std::string p = db + suffix;
      if (!FileExists(p)) continue;
      MAINTD_RETURN_IF_ERROR(RemoveIfExists(p));
      result.removed.push_back(p);
    }
    if (!result.removed.empty()) MAINTD_RETURN_IF_ERROR(FsyncDir(DirName(db)));
  }

  // 6. Temp file, check, rename over.
  std::string tmp = db + ".restore-tmp";
  MAINTD_RETURN_IF_ERROR(RemoveIfExists(tmp));  // a crashed restore's leftover (we hold the lock)
  auto copied = CopyFileDurable(source, tmp, mode, options.progress, "copy");
  if (!copied.ok()) return copied.status();
  auto header = ReadDbHeader(tmp);
  if (!header.ok() || header->file_size != backup_bytes) {
    (void)RemoveIfExists(tmp);
    return Status::IoError("copy of " + backup + " to " + tmp + " came out different (" +
                           (header.ok() ? Bytes(header->file_size) : header.status().message()) +
                           "); nothing was replaced");
  }
  struct stat old {};
  if (exists && ::stat(db.c_str(), &old) == 0 &&
      ::chown(tmp.c_str(), old.st_uid, old.st_gid) != 0 && errno != EPERM) {
    spdlog::warn("restore: cannot give {} the owner of {}: {}", tmp, db, std::strerror(errno));
  }
  if (::rename(tmp.c_str(), db.c_str()) != 0) {
    Status s = Status::IoError("rename " + tmp + " to " + db + ": " + std::strerror(errno));
    (void)RemoveIfExists(tmp);
    return s;
  }
  MAINTD_RETURN_IF_ERROR(FsyncDir(DirName(db)));
  result.bytes = *copied;
  return result;
}

}  // namespace maintd
