#pragma once
// The `backup` job: an online, verified backup of the database (lib/backup/online_backup.h)
// into backup.dir, then retention (keep the newest backup.keep verified backups).
//
// It reports one sqlite_health_checks row, check_type "backup", with details
// {path, bytes, duration_ms, copy_ms, sync_ms, verify_ms, verify, verify_result, deleted,
// kept, journal_mode} and metrics backup.duration_ms / backup.bytes / backup.pages.
// A failed run (disk space refused, verification failed, ...) returns a non-ok Result; the
// runner records it as critical, and nothing is rotated.
//
// destructive() is true: the run deletes old backups, so a database whose last integrity
// result is critical is not backed up (its copy must never rotate good backups away), and a
// quick_check runs first when no recent result exists (MaintainedDatabase::Run does both).

#include <functional>
#include <memory>
#include <string>

#include "lib/jobs/job.h"

namespace maintd {

struct BackupJobOptions {
  std::string dest_dir;  // "" = backup.dir of the database (or <db dir>/backups)
  bool rotate = true;    // apply backup.keep in the destination
  // Test hooks passed to BackupOptions (empty = the real thing).
  std::function<Result<int64_t>(const std::string& dir)> free_bytes;
  int64_t chunk_bytes = 0;  // 0 = default
};

std::shared_ptr<Job> MakeBackupJob(const ResolvedDatabase& db);
std::shared_ptr<Job> MakeBackupJob(const ResolvedDatabase& db, BackupJobOptions options);

}  // namespace maintd
