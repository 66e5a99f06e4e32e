#pragma once
// The `backup_age` health check (CONTRACT.md section 4): how old the newest verified backup
// of a database is, against its backup interval.
//   backups disabled (backup.every = 0)       -> healthy, {"disabled": true}
//   age <= 2 x every                           -> healthy
//   2 x every < age < 4 x every                -> warning
//   age >= 4 x every, or no verified backup    -> critical
// No verified backup at all is critical: with backups configured, a database without one
// has no recovery point (the first scheduled backup clears it).
//
// Reads the backup directory only (stat, sidecars); no database connection, no lock.

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/journal/journal.h"

namespace maintd {

CheckRow CheckBackupAge(const ResolvedDatabase& db, SystemTime now);

}  // namespace maintd
