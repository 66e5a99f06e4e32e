// restore (CONTRACT.md section 6): verifies first, refuses an open database or a hot -wal
// unless forced, keeps a byte-identical pre-restore copy, takes the maintainer lock.
#include "lib/backup/restore.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include "lib/backup/in_use.h"
#include "lib/backup/online_backup.h"
#include "lib/core/maintainer_lock.h"
#include "lib/inspect/db_stats.h"
#include "lib/sqlite/connection.h"
#include "tests/backup/backup_test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

RestoreOptions Forced() {
  RestoreOptions o;
  o.force = true;
  return o;
}

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("app.db");
    test::MakeWalDb(db_, 1000);
    auto r = test::BackupInto(db_, dir_.File("backups"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    backup_ = r->path;
    // The database moves on after the backup: restore must bring back the 1000 rows.
    test::ExecSql(db_, "DELETE FROM items WHERE id > 10; INSERT INTO items(body) VALUES('new')");
    ASSERT_EQ(::chmod(db_.c_str(), 0640), 0);
  }

  int64_t Rows() { return test::QueryInt(db_, "SELECT count(*) FROM items"); }

  TempDir dir_;
  std::string db_;
  std::string backup_;
};

TEST_F(RestoreTest, KeepsAByteIdenticalPreRestoreCopyAndRestores) {
  std::string previous = test::ReadFile(db_);
  ASSERT_EQ(Rows(), 11);
  auto r = RestoreBackup(backup_, db_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->pre_restore_path.empty());
  EXPECT_EQ(r->pre_restore_path.rfind(db_ + ".pre-restore-", 0), 0u);
  EXPECT_TRUE(test::ReadFile(r->pre_restore_path) == previous) << "byte-identical";
  EXPECT_TRUE(test::ReadFile(db_) == test::ReadFile(backup_));
  EXPECT_EQ(r->verify_result, "ok");
  EXPECT_FALSE(FileExists(db_ + ".restore-tmp"));
  struct stat st {};
  ASSERT_EQ(::stat(db_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u) << "the database keeps its mode";
  EXPECT_EQ(Rows(), 1000);
  EXPECT_EQ(test::QueryText(db_, "PRAGMA integrity_check"), "ok");
}

TEST_F(RestoreTest, RefusesATruncatedBackupAndTouchesNothing) {
  std::string truncated = dir_.File("backups/cut.db");
  test::WriteFile(truncated, test::ReadFile(backup_).substr(0, 3 * 4096));
  std::string previous = test::ReadFile(db_);
  auto r = RestoreBackup(truncated, db_, Forced());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << r.status().ToString();
  EXPECT_EQ(ExitCodeFor(r.status()), 1);
  EXPECT_TRUE(test::ReadFile(db_) == previous);
  EXPECT_EQ(Rows(), 11);
}

TEST_F(RestoreTest, RefusesACorruptBackup) {
  std::string damaged = dir_.File("backups/damaged.db");
  test::WriteFile(damaged, test::ReadFile(backup_));
  int64_t pages = static_cast<int64_t>(test::ReadFile(damaged).size() / 4096);
  test::CorruptPage(damaged, pages / 2 + 1);
  auto r = RestoreBackup(damaged, db_, Forced());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << r.status().ToString();
  EXPECT_EQ(Rows(), 11);
}

TEST_F(RestoreTest, RefusesWhileAnotherProcessHoldsAnIdleConnectionUnlessForced) {
  // A real separate process with an open, idle connection: the test writer commits one row
  // and then sleeps for ten minutes (killed by the ChildProcess destructor).
  std::string committed = dir_.File("committed.txt");
  test::ChildProcess idle(
      {test::WriterBinary(), db_, "--interval-ms", "600000", "--committed", committed});
  ASSERT_TRUE(test::WaitFor([&] { return !test::ReadFile(committed).empty(); }, 20s));

  InUseReport users = FindDatabaseUsers(db_);
  EXPECT_TRUE(users.in_use());
  EXPECT_FALSE(users.users.empty()) << "seen in /proc";
  EXPECT_FALSE(users.locked_files.empty()) << "seen by the lock probe";

  auto refused = RestoreBackup(backup_, db_, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kRefused);
  EXPECT_EQ(ExitCodeFor(refused.status()), 1);
  EXPECT_NE(refused.status().message().find("maintd-test-wri"), std::string::npos)
      << refused.status().message();
  EXPECT_FALSE(FileExists(db_ + ".restore-tmp"));

  auto forced = RestoreBackup(backup_, db_, Forced());
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_FALSE(forced->forced_past.empty());
  EXPECT_TRUE(FileExists(forced->pre_restore_path));
  idle.Signal(SIGKILL);
  idle.Wait(10s);
  EXPECT_EQ(Rows(), 1000);
}

TEST_F(RestoreTest, HotWalIsRefusedThenKeptBesideThePreRestoreCopyWithForce) {
  // A writer killed with SIGKILL leaves a -wal with committed content and no process.
  test::LeaveCommittedWal(db_, dir_.path());
  ASSERT_GT(FileSize(db_ + "-wal"), 0);
  EXPECT_FALSE(FindDatabaseUsers(db_).in_use());

  auto refused = RestoreBackup(backup_, db_, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kRefused);
  EXPECT_NE(refused.status().message().find("-wal has"), std::string::npos);

  std::string main_before = test::ReadFile(db_);
  auto forced = RestoreBackup(backup_, db_, Forced());
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_FALSE(FileExists(db_ + "-wal"));
  EXPECT_FALSE(FileExists(db_ + "-shm"));
  EXPECT_FALSE(forced->removed.empty());
  const std::string& pre = forced->pre_restore_path;
  EXPECT_TRUE(test::ReadFile(pre) == main_before);
  ASSERT_TRUE(FileExists(pre + "-wal"));
  // Opening the pre-restore copy applies its -wal: the previous state, writer's row included.
  EXPECT_EQ(test::QueryInt(pre, "SELECT count(*) FROM writer_rows"), 1);
  EXPECT_EQ(test::QueryInt(pre, "SELECT count(*) FROM items"), 11);
  EXPECT_EQ(Rows(), 1000);
}

TEST_F(RestoreTest, AnotherMaintainerMeansExit75) {
  auto lock = MaintainerLock::Acquire(db_, "");
  ASSERT_TRUE(lock.ok());
  auto r = RestoreBackup(backup_, db_, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kLockHeld);
  EXPECT_EQ(ExitCodeFor(r.status()), 75);
  EXPECT_EQ(Rows(), 11);
}

TEST_F(RestoreTest, RestoresToANewPathWithoutPreRestoreCopy) {
  std::string fresh = dir_.File("fresh.db");
  auto r = RestoreBackup(backup_, fresh, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->pre_restore_path.empty());
  EXPECT_EQ(test::QueryInt(fresh, "SELECT count(*) FROM items"), 1000);
}

}  // namespace
}  // namespace maintd
