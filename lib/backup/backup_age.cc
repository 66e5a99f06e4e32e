#include "lib/backup/backup_age.h"

#include "lib/backup/catalog.h"

namespace maintd {

CheckRow CheckBackupAge(const ResolvedDatabase& db, SystemTime now) {
  CheckRow row;
  row.check_type = "backup_age";
  const Millis every = db.policy.backup.every;
  if (every.count() <= 0) {
    row.details = {{"disabled", true}};
    return row;
  }
  std::string dir = BackupDirFor(db);
  row.details["dir"] = dir;
  row.details["every_s"] = std::chrono::duration_cast<std::chrono::seconds>(every).count();
  auto entries = ListBackups(dir, db.name, db.path);
  if (!entries.ok()) {
    row.status = HealthStatus::kCritical;
    row.details["error"] = entries.status().message();
    return row;
  }
  int64_t verified = 0;
  for (const auto& e : *entries) verified += e.verified ? 1 : 0;
  row.details["verified_backups"] = verified;
  auto newest = NewestVerified(*entries);
  if (!newest) {
    row.status = HealthStatus::kCritical;
    row.details["newest"] = nullptr;
    return row;
  }
  // The snapshot time from the sidecar (the name's stamp may be a second later).
  SystemTime taken = newest->sidecar ? newest->sidecar->snapshot : newest->time;
  auto age = std::chrono::duration_cast<std::chrono::seconds>(now - taken);
  row.details["newest"] = newest->path;
  row.details["age_s"] = age.count();
  if (age >= 4 * every) {
    row.status = HealthStatus::kCritical;
  } else if (age > 2 * every) {
    row.status = HealthStatus::kWarning;
  }
  return row;
}

}  // namespace maintd
