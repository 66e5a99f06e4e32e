// The backup_age check: healthy within 2 x backup.every, warning past it, critical at 4 x;
// with no verified backup yet the same thresholds apply to the time waited for the first one;
// disabled backups are healthy with {"disabled": true}.
#include "lib/backup/backup_age.h"

#include <gtest/gtest.h>

#include "lib/backup/online_backup.h"
#include "lib/sqlite/connection.h"
#include "tests/backup/backup_test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;

TEST(BackupAge, DisabledIsHealthy) {
  test::TempDir dir;
  ResolvedDatabase db = test::DbEntry(dir.File("app.db"));
  db.policy.backup.every = 0ms;
  CheckRow row = CheckBackupAge(db, RealClock::Instance().Now(), RealClock::Instance().Now());
  EXPECT_EQ(row.check_type, "backup_age");
  EXPECT_EQ(row.status, HealthStatus::kHealthy);
  EXPECT_EQ(row.details, nlohmann::json({{"disabled", true}}));
}

TEST(BackupAge, ThresholdsAreTwoAndFourTimesTheInterval) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 10);
  ResolvedDatabase db = test::DbEntry(path);
  db.policy.backup.every = 6h;
  SystemTime t0(std::chrono::seconds(1795316400));

  SystemTime long_ago = t0 - 48h;
  EXPECT_EQ(CheckBackupAge(db, t0, long_ago).status, HealthStatus::kCritical)
      << "no backup after 8 intervals of waiting";

  auto conn = Connection::Open(path);
  ASSERT_TRUE(conn.ok());
  BackupOptions o;
  o.dir = dir.File("backups");
  o.name = "app";
  FakeClock clock(t0);
  ASSERT_TRUE(TakeBackup(*conn, o, clock).ok());

  CheckRow fresh = CheckBackupAge(db, t0 + 1h, long_ago);
  EXPECT_EQ(fresh.status, HealthStatus::kHealthy) << fresh.details.dump();
  EXPECT_EQ(fresh.details["age_s"], 3600);
  EXPECT_EQ(CheckBackupAge(db, t0 + 12h, long_ago).status, HealthStatus::kHealthy);
  EXPECT_EQ(CheckBackupAge(db, t0 + 12h + 1s, long_ago).status, HealthStatus::kWarning);
  EXPECT_EQ(CheckBackupAge(db, t0 + 24h, long_ago).status, HealthStatus::kCritical);

  // An unverified file (no sidecar) newer than the good one does not count.
  test::WriteFile(dir.File("backups/app-20261123T030000Z.db"), test::ReadFile(path));
  EXPECT_EQ(CheckBackupAge(db, t0 + 13h, long_ago).status, HealthStatus::kWarning);
}

// Enabling backups (or a new tenant appearing) is not an emergency: before the first backup
// the check is healthy and says when the first one was due; it warns and goes critical only
// when the first backup is as late as an existing one would be old (issue 16).
TEST(BackupAge, FirstBackupPendingIsNotCritical) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 10);
  ResolvedDatabase db = test::DbEntry(path);
  db.policy.backup.every = 6h;
  SystemTime enabled(std::chrono::seconds(1795316400));

  CheckRow now = CheckBackupAge(db, enabled, enabled);
  EXPECT_EQ(now.status, HealthStatus::kHealthy) << now.details.dump();
  EXPECT_EQ(now.details["pending"], true);
  EXPECT_EQ(now.details["first_due"], "2026-11-22 03:00:00");
  EXPECT_TRUE(now.details["newest"].is_null());
  EXPECT_EQ(CheckBackupAge(db, enabled + 12h, enabled).status, HealthStatus::kHealthy);
  EXPECT_EQ(CheckBackupAge(db, enabled + 12h + 1s, enabled).status, HealthStatus::kWarning);
  CheckRow late = CheckBackupAge(db, enabled + 24h, enabled);
  EXPECT_EQ(late.status, HealthStatus::kCritical);
  EXPECT_EQ(late.details["waited_s"], 24 * 3600);
}

}  // namespace
}  // namespace maintd
