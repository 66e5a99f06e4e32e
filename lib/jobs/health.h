#pragma once
// The `health` and `integrity_check` jobs (CONTRACT.md section 4). Both are read-only: they
// hold read transactions only (one per statement), never the write lock, so they run
// beside the application's writers; in WAL mode each check pins the WAL while it reads.
// A database proven corrupt is a critical row with report.found_corruption set, not a
// failed run. The single checks live in health_checks.h.

#include <memory>

#include "lib/core/clock.h"
#include "lib/jobs/health_checks.h"
#include "lib/jobs/job.h"

namespace maintd {

// `health`: quick_check plus the cheap checks: fragmentation, wal_size, db_size,
// free_disk, filesystem, journal_mode, backup_age when scheduled backups are on, and wal_pin
// on WAL databases (wal_pin.h).
std::shared_ptr<Job> MakeHealthJob(const ResolvedDatabase& db);
// `integrity_check`: PRAGMA integrity_check and foreign_key_check (daily).
std::shared_ptr<Job> MakeIntegrityCheckJob(const ResolvedDatabase& db);

// backup_age: see lib/backup/backup_age.h (CheckBackupAge).

}  // namespace maintd
