// The change detector (lib/inspect/file_signature.h) and the one door of the POSIX-lock
// rule (lib/sqlite/open_files.h), on real SQLite files.
#include "lib/inspect/file_signature.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "lib/sqlite/open_files.h"
#include "tests/support/job_util.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

// `later` with the timestamps of `earlier`: what a filesystem with coarse timestamps (one
// tick of several ms, or seconds on some) shows for a write within the same tick. Only
// sizes, salts and header counters can then tell the two apart.
FileSignature SameTick(FileSignature later, const FileSignature& earlier) {
  later.mtime_ns = earlier.mtime_ns;
  later.ctime_ns = earlier.ctime_ns;
  later.wal_mtime_ns = earlier.wal_mtime_ns;
  later.wal_ctime_ns = earlier.wal_ctime_ns;
  return later;
}

TEST(FileSignature, AnIdleDatabaseReadsTheSameTwice) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 50);
  FileSignature a = ReadFileSignature(path);
  FileSignature b = ReadFileSignature(path);
  ASSERT_TRUE(a.exists);
  ASSERT_TRUE(a.header_known);
  EXPECT_GT(a.page_count, 0u);
  EXPECT_TRUE(b.SameAs(a)) << a.Describe() << " / " << b.Describe();
}

// A reader (python's sqlite3 with mode=ro, `status` of an old version, a backup tool) opens
// a clean WAL database and leaves an empty -wal and -shm behind: no content changed, so no
// job may unsettle for it (10,000 tenants swept by a reader must not all run again).
TEST(FileSignature, AReaderLeavingAnEmptyWalIsNoChangeACommitIs) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 50);
  FileSignature before = ReadFileSignature(path);
  ASSERT_FALSE(before.wal_exists);
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "SELECT count(*) FROM items", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
  }
  FileSignature after = ReadFileSignature(path);
  ASSERT_TRUE(after.wal_exists) << "a read-only connection cannot remove the -wal";
  EXPECT_FALSE(after.WalHasFrames());
  EXPECT_TRUE(after.SameAs(before)) << before.Describe() << " / " << after.Describe();

  test::ExecSql(path, "INSERT INTO items(body) VALUES ('x')");
  EXPECT_FALSE(ReadFileSignature(path).SameAs(after));
}

TEST(FileSignature, TheHeaderIsNotReadWhileAConnectionOfOursIsOpen) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 50);
  EXPECT_EQ(ConnectionsOpenOn(path), 0);
  {
    Connection conn = test::OpenTestDb(path);
    ASSERT_TRUE(conn.Exec("BEGIN; SELECT count(*) FROM items;").ok());  // holds its locks
    EXPECT_EQ(ConnectionsOpenOn(path), 1);
    FileSignature sig = ReadFileSignature(path);
    EXPECT_TRUE(sig.exists);
    EXPECT_FALSE(sig.header_known) << "read beside our own open connection";
    EXPECT_FALSE(sig.SameAs(sig)) << "an incomplete view equals nothing: the work is done";
    bool called = false;
    EXPECT_FALSE(ReadIfNoConnectionOpen(path, [&](const struct stat&) { called = true; }));
    EXPECT_FALSE(called);
    // Another path to the same file (a hard link) is the same file.
    std::string link = dir.File("link.db");
    ASSERT_EQ(::link(path.c_str(), link.c_str()), 0);
    EXPECT_FALSE(ReadFileSignature(link).header_known);
    ASSERT_TRUE(conn.Exec("COMMIT").ok());
  }
  EXPECT_EQ(ConnectionsOpenOn(path), 0);
  EXPECT_TRUE(ReadFileSignature(path).header_known);
}

TEST(FileSignature, ACommitWithinOneTimestampTickChangesIt) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 50);
  test::HeldConnection app(path);  // keeps the WAL between our connections
  app.Exec("INSERT INTO items(body) VALUES ('first')");
  FileSignature before = ReadFileSignature(path);
  ASSERT_TRUE(before.WalHasFrames()) << before.Describe();
  app.Exec("INSERT INTO items(body) VALUES ('second')");
  FileSignature after = SameTick(ReadFileSignature(path), before);
  EXPECT_GT(after.wal_size, before.wal_size);
  EXPECT_FALSE(after.SameAs(before)) << after.Describe();
}

TEST(FileSignature, ASameSizeWalAfterARestartChangesIt) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 50);
  test::HeldConnection app(path);
  app.Exec("UPDATE items SET body = 'a' WHERE id = 1");
  FileSignature before = ReadFileSignature(path);
  ASSERT_TRUE(before.WalHasFrames()) << before.Describe();
  // Everything copied back, then the same update again: the next writer restarts the log
  // from its start, writing the same number of frames over the old ones.
  app.Exec("PRAGMA wal_checkpoint(PASSIVE)");
  app.Exec("UPDATE items SET body = 'b' WHERE id = 1");
  FileSignature after = SameTick(ReadFileSignature(path), before);
  ASSERT_EQ(after.wal_size, before.wal_size) << "the restart reused the file";
  EXPECT_NE(after.wal_salt1, before.wal_salt1);
  EXPECT_FALSE(after.SameAs(before)) << after.Describe();
}

TEST(FileSignature, ARollbackUpdateInPlaceChangesIt) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::ExecSql(path, "PRAGMA journal_mode=DELETE; CREATE TABLE t(x); INSERT INTO t VALUES (1);");
  FileSignature before = ReadFileSignature(path);
  ASSERT_FALSE(before.wal_exists);
  test::ExecSql(path, "UPDATE t SET x = 2");
  FileSignature after = SameTick(ReadFileSignature(path), before);
  ASSERT_EQ(after.size, before.size) << "updated in place";
  EXPECT_NE(after.change_counter, before.change_counter);
  EXPECT_FALSE(after.SameAs(before));
}

}  // namespace
}  // namespace maintd
