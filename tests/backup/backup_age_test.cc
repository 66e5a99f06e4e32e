// The backup_age check: healthy within 2 x backup.every, warning past it, critical at 4 x or
// with no verified backup; disabled backups are healthy with {"disabled": true}.
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
  CheckRow row = CheckBackupAge(db, RealClock::Instance().Now());
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

  EXPECT_EQ(CheckBackupAge(db, t0).status, HealthStatus::kCritical) << "no backup at all";

  auto conn = Connection::Open(path);
  ASSERT_TRUE(conn.ok());
  BackupOptions o;
  o.dir = dir.File("backups");
  o.name = "app";
  FakeClock clock(t0);
  ASSERT_TRUE(TakeBackup(*conn, o, clock).ok());

  CheckRow fresh = CheckBackupAge(db, t0 + 1h);
  EXPECT_EQ(fresh.status, HealthStatus::kHealthy) << fresh.details.dump();
  EXPECT_EQ(fresh.details["age_s"], 3600);
  EXPECT_EQ(CheckBackupAge(db, t0 + 12h).status, HealthStatus::kHealthy);
  EXPECT_EQ(CheckBackupAge(db, t0 + 12h + 1s).status, HealthStatus::kWarning);
  EXPECT_EQ(CheckBackupAge(db, t0 + 24h).status, HealthStatus::kCritical);

  // An unverified file (no sidecar) newer than the good one does not count.
  test::WriteFile(dir.File("backups/app-20261123T030000Z.db"), test::ReadFile(path));
  EXPECT_EQ(CheckBackupAge(db, t0 + 13h).status, HealthStatus::kWarning);
}

}  // namespace
}  // namespace maintd
