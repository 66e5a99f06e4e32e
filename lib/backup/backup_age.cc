#include "lib/backup/backup_age.h"

#include "lib/backup/catalog.h"
#include "lib/core/units.h"

namespace maintd {

namespace {

HealthStatus ForAge(std::chrono::seconds age, Millis every) {
  if (age >= 4 * every) return HealthStatus::kCritical;
  if (age > 2 * every) return HealthStatus::kWarning;
  return HealthStatus::kHealthy;
}

}  // namespace

CheckRow CheckBackupAge(const ResolvedDatabase& db, SystemTime now, SystemTime waiting_since) {
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
    auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - waiting_since);
    row.status = ForAge(waited, every);
    row.details["newest"] = nullptr;
    row.details["pending"] = true;
    row.details["first_due"] = FormatSqliteUtc(waiting_since);
    row.details["waited_s"] = waited.count();
    return row;
  }
  // The snapshot time from the sidecar (the name's stamp may be a second later).
  SystemTime taken = newest->sidecar ? newest->sidecar->snapshot : newest->time;
  auto age = std::chrono::duration_cast<std::chrono::seconds>(now - taken);
  row.details["newest"] = newest->path;
  row.details["age_s"] = age.count();
  row.status = ForAge(age, every);
  return row;
}

}  // namespace maintd
