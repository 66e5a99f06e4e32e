#pragma once
// The `backup_age` health check (CONTRACT.md section 4): how old the newest verified backup
// of a database is, against its backup interval.
//   backups disabled (backup.every = 0)       -> healthy, {"disabled": true}
//   age <= 2 x every                           -> healthy
//   2 x every < age < 4 x every                -> warning
//   age >= 4 x every                           -> critical
// No verified backup yet: the first one is due from `waiting_since` (when this maintainer
// first saw backups enabled for the database: the daemon's start, the reload that enabled
// them, a new tenant's discovery), and the same thresholds apply to the time waited:
// healthy ("pending", with "first_due") up to 2 x every, then warning, critical from
// 4 x every. So enabling backups pages nobody, and a first backup that never comes still
// does.
//
// Reads the backup directory only (stat, sidecars); no database connection, no lock.

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/journal/journal.h"

namespace maintd {

CheckRow CheckBackupAge(const ResolvedDatabase& db, SystemTime now, SystemTime waiting_since);

}  // namespace maintd
