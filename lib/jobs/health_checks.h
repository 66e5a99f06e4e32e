#pragma once
// The single checks the `health` and `integrity_check` jobs are made of. The Run* functions
// read the database through `conn` with read transactions only (one per statement, never a
// write lock); the *Check functions judge facts already read and do no I/O, so their
// thresholds can be tested directly.

#include <cstdint>
#include <string>

#include "lib/config/config.h"
#include "lib/core/status.h"
#include "lib/inspect/db_stats.h"
#include "lib/journal/journal.h"
#include "lib/sqlite/connection.h"
#include "lib/vacuum/convert.h"

namespace maintd {

// Most messages of quick_check / integrity_check / foreign_key_check kept in details.
inline constexpr int kMaxDetailMessages = 10;
// Below this much free space (percent of the filesystem, or bytes) free_disk is critical:
// a commit or a WAL that grows can then fail with SQLITE_FULL at any moment, whatever the
// configured warning level.
inline constexpr double kCriticalFreePercent = 1.0;
inline constexpr int64_t kCriticalFreeBytes = 32LL << 20;

struct IntegrityOutcome {
  CheckRow row;
  bool corrupt = false;  // the check proved the database corrupt (row is critical)
};

// PRAGMA quick_check (`full` = false) or integrity_check (`full` = true), as a row named
// "quick_check" / "integrity_check": healthy on "ok", critical with the first messages
// otherwise. An SQLITE_CORRUPT/NOTADB error (a file too damaged to read) is also a
// critical row, not an error. Returns an error only for busy, interrupt, I/O and the like.
// The one quick_check / integrity_check row loop: the health jobs, the integrity gate and
// the `check` command all read through it. `max_problems` is the pragma's argument (SQLite
// stops after that many), `keep` how many distinct messages go to details["messages"];
// details["message_count"] counts them all (a row with several lines counts each line).
Result<IntegrityOutcome> RunIntegrityCheck(Connection& conn, bool full, int max_problems = 100,
                                           size_t keep = kMaxDetailMessages);

// The first problem a critical integrity row names ("" when none): its first message, or
// the error that kept the check from running.
std::string FirstProblem(const CheckRow& row);

// PRAGMA foreign_key_check as a "foreign_key_check" row: healthy when no row comes back,
// warning with the count and the first violations otherwise; critical when the database
// is too damaged to run it.
Result<CheckRow> RunForeignKeyCheck(Connection& conn);

// free ratio >= vacuum.trigger_free_ratio and freelist >= vacuum.min_free_pages on an
// auto_vacuum NONE database is a warning (the vacuum job cannot reclaim it incrementally)
// unless the vacuum job converts it (`conversion`, the rule of lib/vacuum/convert.h, says
// will_convert: now or in the convert_at window) or full_when_no_auto_vacuum lets it run a
// full VACUUM. The warning's details say why not ("why": the stall bound, the disk or
// Litestream rule, convert_auto_vacuum false) and carry the conversion figures
// (predicted_stall_ms, max_full_vacuum_stall_ms, ...). `conversion` null: none decided
// (treated as false). auto_vacuum INCREMENTAL/FULL is healthy: the vacuum job (or SQLite)
// reclaims it.
CheckRow FragmentationCheck(const DbStats& stats, const VacuumPolicy& vacuum,
                            const ConvertDecision* conversion = nullptr);
// Warning when the WAL file is above health.wal_warning (0 disables).
CheckRow WalSizeCheck(const DbStats& stats, const HealthPolicy& health);
// Critical at or above size_critical, warning at or above size_warning (0 disables each).
CheckRow DbSizeCheck(int64_t db_bytes, int64_t wal_bytes, const HealthPolicy& health);
// Warning below free_disk_warning (percent or bytes); critical below kCriticalFreePercent
// or kCriticalFreeBytes. `db_bytes` only feeds the details (room for a full VACUUM).
CheckRow FreeDiskCheck(const DiskSpace& disk, int64_t db_bytes, const HealthPolicy& health,
                       const VacuumPolicy& vacuum);
// Critical for WAL on a network filesystem (WAL's shared memory does not work there);
// warning for a rollback journal on one (needs working POSIX locks); healthy otherwise.
CheckRow FilesystemCheck(const FilesystemInfo& fs, const std::string& journal_mode);
// Healthy for wal; warning for the rollback modes (writers block readers, and readers
// block commits) and for memory/off (a crash mid-write can corrupt the database).
CheckRow JournalModeCheck(const std::string& journal_mode);

}  // namespace maintd
