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
// Like every job that is not a check, it passes the integrity gate first (jobs/
// integrity_gate.h): a corrupt database is never backed up, so its copy can never rotate good
// backups away. report.output is the new backup's path (what `backup` prints).

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
