#pragma once
#include <memory>

#include "lib/jobs/job.h"

namespace maintd {

// `health`: quick_check plus the cheap checks
// (fragmentation, wal_size, db_size, free_disk, filesystem, journal_mode, auto_vacuum).
std::shared_ptr<Job> MakeHealthJob(const ResolvedDatabase& db);
// `integrity_check`: PRAGMA integrity_check and foreign_key_check (daily).
std::shared_ptr<Job> MakeIntegrityCheckJob(const ResolvedDatabase& db);

}  // namespace maintd
