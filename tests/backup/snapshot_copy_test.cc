// The file copy (snapshot_copy.h) against SQLite's own backup API, whatever state the WAL is
// in: every page of the two copies must be the same bytes (page 1 past its header too), and
// under a writer process plus a checkpointer racing the copy, every backup must be whole
// and hold every row committed before it began.
#include "lib/backup/snapshot_copy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "lib/backup/online_backup.h"
#include "lib/sqlite/connection.h"
#include "tests/backup/backup_test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

Result<BackupResult> Backup(Connection& conn, const std::string& dir, BackupMethod method,
                            int64_t chunk_bytes = 64 << 10) {
  BackupOptions o;
  o.dir = dir;
  o.name = "app";
  o.verify = VerifyMode::kFull;
  o.method = method;
  o.chunk_bytes = chunk_bytes;
  o.free_bytes = [](const std::string&) -> Result<int64_t> { return int64_t{1} << 40; };
  return TakeBackup(conn, o, RealClock::Instance());
}

// Both copies, byte for byte, except the 100-byte file header of page 1 (the backup API
// bumps the change counter there).
void ExpectSamePages(const std::string& a, const std::string& b) {
  std::string x = test::ReadFile(a), y = test::ReadFile(b);
  ASSERT_EQ(x.size(), y.size());
  ASSERT_GT(x.size(), 100u);
  EXPECT_EQ(x.substr(0, 24), y.substr(0, 24));
  EXPECT_TRUE(x.compare(100, std::string::npos, y, 100, std::string::npos) == 0)
      << "the file copy and the page copy differ past the header";
}

struct Scenario {
  const char* name;
  const char* setup;  // run after the base rows, on a connection with autocheckpoint off
  bool hold_reader_midway = false;  // a reader pins an older snapshot, then a checkpoint
};

class SnapshotCopyTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(SnapshotCopyTest, FileCopyHasTheSamePagesAsThePageCopy) {
  const Scenario& s = GetParam();
  TempDir dir;
  std::string db = dir.File("app.db");
  test::ExecSql(db,
                "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;"
                "CREATE TABLE items(id INTEGER PRIMARY KEY, body BLOB);"
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<3000) "
                "INSERT INTO items(body) SELECT randomblob(700) FROM c;"
                "PRAGMA wal_checkpoint(TRUNCATE);");
  auto conn = Connection::Open(db);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn->Exec("PRAGMA wal_autocheckpoint=0").ok());
  if (s.hold_reader_midway) {
    ASSERT_TRUE(conn->Exec("UPDATE items SET body = randomblob(700) WHERE id % 3 = 0").ok());
    test::HeldConnection reader(db);
    reader.Exec("BEGIN; SELECT count(*) FROM items;");
    ASSERT_TRUE(conn->Exec("UPDATE items SET body = zeroblob(300) WHERE id % 7 = 0").ok());
    ASSERT_TRUE(conn->Exec("PRAGMA wal_checkpoint(PASSIVE)").ok());  // stops at the reader
    reader.Exec("COMMIT");
  }
  ASSERT_TRUE(conn->Exec(s.setup).ok()) << s.setup;

  auto file = Backup(*conn, dir.File("file"), BackupMethod::kAuto);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto page = Backup(*conn, dir.File("page"), BackupMethod::kPageCopy);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(file->method, "file");
  EXPECT_EQ(page->method, "page");
  EXPECT_EQ(file->page_count, test::QueryInt(db, "PRAGMA page_count"));
  ExpectSamePages(file->path, page->path);
  EXPECT_EQ(test::QueryText(file->path, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(test::QueryInt(file->path, "SELECT count(*) FROM items"),
            test::QueryInt(db, "SELECT count(*) FROM items"));
}

INSTANTIATE_TEST_SUITE_P(
    WalStates, SnapshotCopyTest,
    ::testing::Values(
        Scenario{"MainFileOnly", "PRAGMA wal_checkpoint(TRUNCATE)"},
        Scenario{"NothingBackfilled",
                 "UPDATE items SET body = randomblob(500) WHERE id % 10 = 0"},
        Scenario{"GrownPastTheMainFile",
                 "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<2000) "
                 "INSERT INTO items(body) SELECT randomblob(900) FROM c"},
        Scenario{"ShrunkBelowTheMainFile",
                 "DELETE FROM items WHERE id > 1000; PRAGMA incremental_vacuum"},
        Scenario{"FullyBackfilledWalNotReset",
                 "UPDATE items SET body = x'00' WHERE id < 50; PRAGMA wal_checkpoint(PASSIVE)"},
        Scenario{"PartlyBackfilled", "DELETE FROM items WHERE id % 11 = 0", true},
        Scenario{"RollbackJournal",
                 "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE; "
                 "UPDATE items SET body = randomblob(10) WHERE id < 100"}),
    [](const ::testing::TestParamInfo<Scenario>& info) { return info.param.name; });

// A writer process commits every 2 ms while a thread of ours checkpoints as fast as it can,
// so pages are being backfilled into the main file while it is being copied.
TEST(SnapshotCopy, TenBackupsRacingAWriterAndACheckpointerAreWholeAndComplete) {
  TempDir dir;
  std::string db = dir.File("app.db");
  test::MakeWalDb(db, 8000, 600);
  test::Writer writer(db, dir.path(), 2);
  ASSERT_TRUE(writer.WaitForCommits(20, 20s));
  std::atomic<bool> stop{false};
  std::atomic<int> checkpoints{0};
  std::thread checkpointer([&] {
    auto c = Connection::Open(db);
    if (!c.ok()) return;
    while (!stop) {
      if (c->Exec("PRAGMA wal_checkpoint(PASSIVE)").ok()) ++checkpoints;
      std::this_thread::sleep_for(1ms);
    }
  });
  auto conn = Connection::Open(db);
  ASSERT_TRUE(conn.ok());
  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE("backup " + std::to_string(i));
    std::vector<int64_t> before = test::CommittedIds(writer.committed_file());
    auto r = Backup(*conn, dir.File("b" + std::to_string(i)), BackupMethod::kAuto, 32 << 10);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->method, "file");
    EXPECT_EQ(r->verify_result, "ok");  // integrity_check of the copy
    int64_t max_before = before.empty() ? 0 : *std::max_element(before.begin(), before.end());
    EXPECT_EQ(test::QueryInt(r->path, "SELECT count(*) FROM writer_rows WHERE id <= " +
                                          std::to_string(max_before)),
              static_cast<int64_t>(before.size()));
    EXPECT_EQ(test::QueryInt(r->path, "SELECT count(*) FROM items"), 8000);
  }
  stop = true;
  checkpointer.join();
  auto summary = writer.Stop();
  EXPECT_EQ(summary.value("errors", -1), 0) << summary.dump();
  EXPECT_GT(checkpoints.load(), 10);
}

}  // namespace
}  // namespace maintd
