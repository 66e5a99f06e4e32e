// Retention through the backup job: keep the newest `keep` verified backups, never the only
// good one, never count or delete unverified files, never rotate after a failed backup.
#include "lib/backup/rotation.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "lib/backup/catalog.h"
#include "lib/backup/file_util.h"
#include "lib/backup/online_backup.h"
#include "lib/inspect/db_stats.h"
#include "lib/jobs/backup.h"
#include "lib/sqlite/connection.h"
#include "tests/backup/backup_test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

class RotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.File("app.db");
    test::MakeWalDb(db_path_, 300);
    db_ = test::DbEntry(db_path_);
    db_.policy.backup.dir = dir_.File("backups");
  }

  // Runs the backup job once at the fake clock's time, then moves the clock an hour on.
  Result<JobReport> RunJob() {
    auto conn = Connection::Open(db_path_);
    if (!conn.ok()) return conn.status();
    StopToken stop;
    JobContext ctx{db_, &*conn, nullptr, clock_, stop, JobTrigger::kScheduled, std::nullopt};
    auto result = MakeBackupJob(db_)->Run(ctx);
    clock_.Advance(1h);
    return result;
  }

  std::vector<BackupEntry> List() {
    auto l = ListBackups(db_.policy.backup.dir, "app", db_path_);
    EXPECT_TRUE(l.ok());
    return l.ok() ? *l : std::vector<BackupEntry>{};
  }

  TempDir dir_;
  std::string db_path_;
  ResolvedDatabase db_;
  FakeClock clock_{SystemTime(std::chrono::seconds(1795316400))};
};

TEST_F(RotationTest, KeepsTheNewestThreeOfFive) {
  db_.policy.backup.keep = 3;
  std::vector<std::string> made;
  for (int i = 0; i < 5; ++i) {
    auto r = RunJob();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->checks.size(), 1u);
    const CheckRow& row = r->checks[0];
    EXPECT_EQ(row.check_type, "backup");
    EXPECT_EQ(row.status, HealthStatus::kHealthy);
    for (const char* key : {"path", "bytes", "duration_ms", "verify_result"}) {
      EXPECT_TRUE(row.details.contains(key)) << key << " in " << row.details.dump();
    }
    EXPECT_EQ(row.details["verify_result"], "ok");
    EXPECT_EQ(row.details["deleted"].get<int>(), i < 3 ? 0 : 1) << row.details.dump();
    EXPECT_FALSE(r->metrics.empty());
    made.push_back(row.details["path"].get<std::string>());
  }
  auto left = List();
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].path, made[4]);
  EXPECT_EQ(left[1].path, made[3]);
  EXPECT_EQ(left[2].path, made[2]);
  EXPECT_FALSE(FileExists(made[0]));
  EXPECT_FALSE(FileExists(SidecarPath(made[0])));
}

TEST_F(RotationTest, KeepZeroStillKeepsTheOnlyGoodBackup) {
  db_.policy.backup.keep = 0;
  ASSERT_TRUE(RunJob().ok());
  ASSERT_TRUE(RunJob().ok());
  auto left = List();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(left[0].verified);
}

TEST_F(RotationTest, UnverifiedFilesAreNeitherCountedNorDeleted) {
  db_.policy.backup.keep = 1;
  ASSERT_TRUE(RunJob().ok());
  // An older file with our naming but no sidecar (copied in by hand), and one whose size no
  // longer matches its sidecar (cut short after the fact).
  std::string stray = db_.policy.backup.dir + "/app-20200101T000000Z.db";
  test::WriteFile(stray, test::ReadFile(db_path_));
  auto first = List();
  ASSERT_EQ(first.size(), 2u);
  std::string cut = first[0].path;
  test::TruncateFile(cut, 4096);

  auto r = RunJob();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto left = List();
  ASSERT_EQ(left.size(), 3u);
  int verified = 0;
  for (const auto& e : left) verified += e.verified;
  EXPECT_EQ(verified, 1);
  EXPECT_TRUE(FileExists(stray));
  EXPECT_TRUE(FileExists(cut));
  EXPECT_EQ(r->checks[0].details["unverified"].get<int>(), 2);
}

TEST_F(RotationTest, FailedVerificationDeletesTheCopyAndRotatesNothing) {
  db_.policy.backup.keep = 2;
  ASSERT_TRUE(RunJob().ok());
  ASSERT_TRUE(RunJob().ok());
  auto good = List();
  ASSERT_EQ(good.size(), 2u);

  // Damage the source (no connection of ours is open): its copy fails quick_check.
  int64_t pages = test::QueryInt(db_path_, "PRAGMA page_count");
  test::CorruptPage(db_path_, pages / 2 + 1);
  auto r = RunJob();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("failed verification"), std::string::npos)
      << r.status().ToString();

  auto left = List();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].path, good[0].path);
  EXPECT_EQ(left[1].path, good[1].path);
  auto stale = RemoveStaleBackupFiles(db_.policy.backup.dir, "app", db_path_);
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE(stale->empty()) << "the failed copy was removed at once";
}

TEST(Rotation, OtherDatabasesBackupsWithTheSameNameAreLeftAlone) {
  TempDir dir;
  std::string a = dir.File("a/app.db"), b = dir.File("b/app.db");
  ASSERT_TRUE(MakeDirs(dir.File("a"), 0755).ok() && MakeDirs(dir.File("b"), 0755).ok());
  test::MakeWalDb(a, 10);
  test::MakeWalDb(b, 10);
  FakeClock clock(SystemTime(std::chrono::seconds(1795316400)));
  for (const std::string& src : {a, b, a, b}) {
    auto conn = Connection::Open(src);
    ASSERT_TRUE(conn.ok());
    BackupOptions o;
    o.dir = dir.File("shared");
    o.name = "app";
    auto r = TakeBackup(*conn, o, clock);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    clock.Advance(1h);
  }
  auto rotated = RotateBackups(dir.File("shared"), "app", a, 1, "");
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->deleted.size(), 1u);
  EXPECT_EQ(ListBackups(dir.File("shared"), "app", b)->size(), 2u);
}

// A deleted backup shrinks step by step under its temp name, then disappears with its
// sidecar; a crash part-way leaves only files that the next backup run clears.
TEST(Rotation, GentleDeleteShrinksUnderTheTempNameAndLeavesNothing) {
  TempDir dir;
  std::string src = dir.File("app.db");
  test::MakeWalDb(src, 3000, 400);  // ~1.3 MB: twenty 64 KiB steps
  const std::string backups = dir.File("backups");
  auto r = test::BackupInto(src, backups);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(DeleteBackupGently(backups, r->path, 64 << 10).ok());
  EXPECT_TRUE(std::filesystem::is_empty(backups)) << "backup, temp and sidecar all gone";

  // The state a crash after the rename leaves: a temp file and an orphan sidecar.
  auto again = test::BackupInto(src, backups);
  ASSERT_TRUE(again.ok());
  std::string base = again->path.substr(again->path.find_last_of('/') + 1);
  ASSERT_TRUE(RenameNoReplace(again->path, backups + "/" + BackupTempName(base)).ok());
  auto stale = RemoveStaleBackupFiles(backups, "app", src);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->size(), 2u);
  EXPECT_TRUE(std::filesystem::is_empty(backups));
}

}  // namespace
}  // namespace maintd
