// The online backup itself: completes under a writer process, holds every row committed
// before it began, is verified, named, 0600, and refused when the disk is too small.
#include "lib/backup/online_backup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "lib/backup/catalog.h"
#include "lib/backup/verify.h"
#include "lib/inspect/db_stats.h"
#include "lib/sqlite/connection.h"
#include "tests/backup/backup_test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

BackupOptions Options(const TempDir& dir, VerifyMode verify = VerifyMode::kQuick) {
  BackupOptions o;
  o.dir = dir.File("backups");
  o.name = "app";
  o.verify = verify;
  return o;
}

TEST(OnlineBackup, CompletesUnderWriterAndHoldsEveryRowCommittedBefore) {
  TempDir dir;
  std::string db = dir.File("app.db");
  test::MakeWalDb(db, 30000, 1000);  // ~30 MiB
  test::Writer writer(db, dir.path(), 5);
  ASSERT_TRUE(writer.WaitForCommits(20, 20s));
  // Everything the writer saw committed before the backup starts must be in it.
  std::vector<int64_t> before = test::CommittedIds(writer.committed_file());
  ASSERT_FALSE(before.empty());

  auto conn = Connection::Open(db);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  BackupOptions opts = Options(dir, VerifyMode::kFull);
  opts.chunk_bytes = 256 << 10;  // many steps: the snapshot must hold across all of them
  auto r = TakeBackup(*conn, opts, RealClock::Instance());
  std::vector<int64_t> after = test::CommittedIds(writer.committed_file());
  nlohmann::json summary = writer.Stop();
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  EXPECT_GT(r->steps, 50);
  EXPECT_GT(after.size(), before.size()) << "the writer kept committing during the backup";
  EXPECT_EQ(summary.value("errors", -1), 0) << summary.dump();
  EXPECT_EQ(r->verify_result, "ok");

  EXPECT_EQ(test::QueryText(r->path, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(test::QueryInt(r->path, "SELECT count(*) FROM items"), 30000);
  int64_t max_before = *std::max_element(before.begin(), before.end());
  // Ids are 1..n without gaps (one writer, INTEGER PRIMARY KEY).
  EXPECT_EQ(test::QueryInt(r->path, "SELECT count(*) FROM writer_rows WHERE id <= " +
                                        std::to_string(max_before)),
            static_cast<int64_t>(before.size()));
  EXPECT_EQ(test::QueryText(r->path, "PRAGMA journal_mode"), "wal") << "WAL mode is kept";
}

TEST(OnlineBackup, NamedStampedPrivateWithSidecarAndNoTempLeft) {
  TempDir dir;
  std::string db = dir.File("app.db");
  test::MakeWalDb(db, 500);
  ASSERT_EQ(::chmod(db.c_str(), 0644), 0);
  FakeClock clock(SystemTime(std::chrono::seconds(1795316400)));  // 2026-11-22T03:00:00Z
  auto conn = Connection::Open(db);
  ASSERT_TRUE(conn.ok());
  auto r = TakeBackup(*conn, Options(dir), clock);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, dir.File("backups/app-20261122T030000Z.db"));
  struct stat st {};
  ASSERT_EQ(::stat(r->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(r->bytes, st.st_size);
  EXPECT_TRUE(test::ReadFile(SidecarPath(r->path)).find("\"verify_result\": \"ok\"") !=
              std::string::npos);

  // Same second again: the name moves forward, nothing is overwritten.
  auto r2 = TakeBackup(*conn, Options(dir), clock);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->path, dir.File("backups/app-20261122T030001Z.db"));

  auto list = ListBackups(dir.File("backups"), "app", db);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_TRUE((*list)[0].verified);
  EXPECT_EQ((*list)[0].path, r2->path) << "newest first";
  for (const char* leftover : {".app-20261122T030000Z.db.tmp", ".app-20261122T030001Z.db.tmp"}) {
    EXPECT_FALSE(FileExists(dir.File(std::string("backups/") + leftover)));
  }
}

TEST(OnlineBackup, StricterSourceModeIsKept) {
  TempDir dir;
  std::string db = dir.File("app.db");
  test::MakeWalDb(db, 10);
  ASSERT_EQ(::chmod(db.c_str(), 0400), 0);
  OpenOptions read_only;
  read_only.read_only = true;
  auto conn = Connection::Open(db, read_only);
  ASSERT_TRUE(conn.ok());
  auto r = TakeBackup(*conn, Options(dir), RealClock::Instance());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(r->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0400u);
}

TEST(OnlineBackup, RefusedWhenFreeDiskIsBelowFactorTimesSize) {
  TempDir dir;
  std::string db = dir.File("app.db");
  test::MakeWalDb(db, 2000, 1000);
  auto conn = Connection::Open(db);
  ASSERT_TRUE(conn.ok());
  int64_t size = *conn->QueryInt("PRAGMA page_count") * *conn->QueryInt("PRAGMA page_size");

  BackupOptions opts = Options(dir);
  std::string asked_dir;
  opts.free_bytes = [&](const std::string& d) -> Result<int64_t> {
    asked_dir = d;
    return 2 * size - 1;  // just under the default factor 2.0
  };
  auto r = TakeBackup(*conn, opts, RealClock::Instance());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kRefused) << r.status().ToString();
  EXPECT_NE(r.status().message().find("not enough free disk"), std::string::npos);
  EXPECT_EQ(asked_dir, opts.dir);
  EXPECT_FALSE(conn->InTransaction()) << "the snapshot is released on refusal";
  auto list = ListBackups(opts.dir, "app", db);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());

  // Exactly enough passes.
  opts.free_bytes = [&](const std::string&) -> Result<int64_t> { return 2 * size + (64 << 20); };
  EXPECT_TRUE(TakeBackup(*conn, opts, RealClock::Instance()).ok());

  // The real statvfs with an absurd factor is refused too.
  BackupOptions huge = Options(dir);
  huge.min_free_disk_factor = 1e9;
  auto r2 = TakeBackup(*conn, huge, RealClock::Instance());
  EXPECT_EQ(r2.status().code(), StatusCode::kRefused);
}

TEST(OnlineBackup, StopTokenStopsBetweenChunksAndRemovesThePartialCopy) {
  TempDir dir;
  std::string db = dir.File("app.db");
  test::MakeWalDb(db, 2000, 1000);
  auto conn = Connection::Open(db);
  ASSERT_TRUE(conn.ok());
  StopToken stop;
  stop.RequestStop();
  BackupOptions opts = Options(dir);
  opts.chunk_bytes = 64 << 10;
  auto r = TakeBackup(*conn, opts, RealClock::Instance(), &stop);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInterrupted);
  EXPECT_FALSE(conn->InTransaction());
  auto removed = RemoveStaleBackupFiles(opts.dir, "app", db);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(removed->empty()) << "no temp file was left behind";
}

TEST(VerifyBackupFile, CatchesTruncationAndDamage) {
  TempDir dir;
  std::string db = dir.File("app.db");
  test::MakeWalDb(db, 3000, 500);
  auto conn = Connection::Open(db);
  ASSERT_TRUE(conn.ok());
  auto r = TakeBackup(*conn, Options(dir), RealClock::Instance());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(VerifyBackupFile(r->path, VerifyMode::kFull).ok());

  std::string truncated = dir.File("truncated.db");
  test::WriteFile(truncated, test::ReadFile(r->path).substr(0, r->bytes / 2));
  auto t = VerifyBackupFile(truncated, VerifyMode::kNone);
  EXPECT_EQ(t.status().code(), StatusCode::kCorrupt) << t.status().ToString();

  std::string damaged = dir.File("damaged.db");
  test::WriteFile(damaged, test::ReadFile(r->path));
  test::CorruptPage(damaged, r->page_count / 2);
  auto d = VerifyBackupFile(damaged, VerifyMode::kQuick);
  EXPECT_EQ(d.status().code(), StatusCode::kCorrupt) << d.status().ToString();

  std::string junk = dir.File("junk.db");
  test::WriteFile(junk, std::string(8192, 'x'));
  EXPECT_EQ(VerifyBackupFile(junk, VerifyMode::kNone).status().code(), StatusCode::kCorrupt);

  // Verification leaves no -wal/-shm beside the file it checked.
  EXPECT_FALSE(FileExists(r->path + "-wal"));
  EXPECT_FALSE(FileExists(r->path + "-shm"));
}

}  // namespace
}  // namespace maintd
