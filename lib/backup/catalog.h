#pragma once
// Where backups live and how they are named, and the list of backups of one database.
//
// A backup is `<dir>/<name>-<UTC yyyymmddThhmmssZ>.db` plus a sidecar `<that path>.json`
// written (fsynced) just before the backup is renamed into place, after verification. The
// stamp is the time the backup's snapshot was taken. A backup is *verified* when its sidecar
// exists, names this database as its source, records a passed verification and the file
// still has the recorded size. Failed backups are deleted, so in normal operation every
// `<name>-<stamp>.db` is verified; the sidecar is what lets `backups`, retention and the
// backup_age check tell ours from a file copied in by hand or cut short later, and tell
// which verification (quick, full, none) it passed. Files without a valid sidecar are
// listed as unverified and never counted, and never deleted by retention.
//
// Work in progress is `<dir>/.<name>-<stamp>.db.tmp`; a crash can leave one behind, and the
// next backup run of that database (which holds the maintainer lock, so no other backup of
// it is running) removes it.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/status.h"

namespace maintd {

// backup.dir, or "<db dir>/backups" when it is empty.
std::string BackupDirFor(const ResolvedDatabase& db);

std::string BackupFileName(const std::string& name, SystemTime stamp);  // "queue-2026...Z.db"
std::string BackupTempName(const std::string& final_name);              // ".queue-...db.tmp"
std::string SidecarPath(const std::string& backup_path);                // "<path>.json"

// The stamp of a backup file name of database `name`; nullopt when `file_name` is not one.
std::optional<SystemTime> ParseBackupFileName(const std::string& name,
                                              const std::string& file_name);

// What the sidecar records.
struct BackupSidecar {
  std::string source;    // absolute path of the database backed up
  std::string name;      // database name
  SystemTime snapshot;   // when the snapshot was taken (the name's stamp, to the ms)
  SystemTime completed;  // when the backup was renamed into place
  int64_t bytes = 0;     // size of the backup file
  int64_t page_size = 0;
  int64_t page_count = 0;
  std::string journal_mode;   // of the source: "wal", "delete", ...
  std::string verify;         // none | quick | full
  std::string verify_result;  // "ok"
  int64_t duration_ms = 0;
  nlohmann::json ToJson() const;
  static Result<BackupSidecar> FromJson(const nlohmann::json& j);
};

struct BackupEntry {
  std::string path;
  SystemTime time;  // from the name
  int64_t size = 0;
  bool verified = false;
  std::string verify;   // quick | full | none when verified
  std::string problem;  // why it is not verified ("no sidecar", "size differs", ...)
  std::optional<BackupSidecar> sidecar;
};

// Backups of database `name` (from `source`) in `dir`, newest first. A missing dir is an
// empty list. Backups whose sidecar names another source (two databases with the same name
// sharing a dir) are left out.
Result<std::vector<BackupEntry>> ListBackups(const std::string& dir, const std::string& name,
                                             const std::string& source);

// The newest verified backup, nullopt when there is none.
std::optional<BackupEntry> NewestVerified(const std::vector<BackupEntry>& entries);

// Removes `.<name>-*.db.tmp` work files and sidecars whose backup file is missing. Call only
// while holding the database's maintainer lock. Returns the paths removed.
Result<std::vector<std::string>> RemoveStaleBackupFiles(const std::string& dir,
                                                        const std::string& name,
                                                        const std::string& source);

}  // namespace maintd
