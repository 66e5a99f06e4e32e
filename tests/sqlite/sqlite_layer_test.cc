// The RAII SQLite layer, the maintainer lock and the traps of SQLITE_FACTS.md "Locks".
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

#include "lib/core/maintainer_lock.h"
#include "lib/inspect/db_stats.h"
#include "lib/sqlite/connection.h"
#include "lib/sqlite/statement.h"
#include "lib/sqlite/transaction.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using std::chrono::milliseconds;
using test::TempDir;

TEST(Connection, OpenMissingIsNotFoundAndBadFileIsCorrupt) {
  TempDir dir;
  auto missing = Connection::Open(dir.File("nope.db"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  test::WriteFile(dir.File("junk.db"), std::string(8192, 'x'));
  auto junk = Connection::Open(dir.File("junk.db"));
  ASSERT_TRUE(junk.ok());  // SQLite reads the header lazily
  EXPECT_EQ(junk->QueryInt("PRAGMA page_count").status().code(), StatusCode::kCorrupt);
}

TEST(Statement, BindsValuesAndStepsUntilDone) {
  TempDir dir;
  auto conn = Connection::Open(dir.File("a.db"), {.create = true});
  ASSERT_TRUE(conn->Exec("CREATE TABLE t(a, b, c)").ok());
  auto ins = conn->Prepare("INSERT INTO t VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(ins.ok());
  ins->Bind(1, int64_t{7}).Bind(2, "it's \"quoted\"").BindNull(3);
  ASSERT_TRUE(ins->StepUntilDone().ok());
  EXPECT_EQ(conn->QueryText("SELECT b FROM t").value(), "it's \"quoted\"");
  EXPECT_EQ(conn->QueryInt("SELECT c IS NULL FROM t").value(), 1);
  EXPECT_EQ(QuoteIdentifier("we\"ird"), "\"we\"\"ird\"");
  EXPECT_EQ(conn->Prepare("SELEC nonsense").status().code(), StatusCode::kFailed);
}

TEST(Transaction, RollsBackInTheDestructor) {
  TempDir dir;
  std::string db = dir.File("a.db");
  test::MakeWalDb(db, 10);
  auto conn = Connection::Open(db);
  {
    auto tx = Transaction::BeginImmediate(*conn);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(conn->Exec("DELETE FROM items").ok());
  }
  EXPECT_FALSE(conn->InTransaction());
  EXPECT_EQ(test::QueryInt(db, "SELECT count(*) FROM items"), 10);
}

TEST(Transaction, BusyPastTheTimeoutIsBusyAndTakesAboutThatLong) {
  TempDir dir;
  std::string db = dir.File("a.db");
  test::MakeWalDb(db, 10);
  test::HeldConnection other(db);
  other.Exec("BEGIN IMMEDIATE");
  auto conn = Connection::Open(db, {.busy_timeout = milliseconds(100)});
  auto start = std::chrono::steady_clock::now();
  auto tx = Transaction::BeginImmediate(*conn, milliseconds(200));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().code(), StatusCode::kBusy);
  EXPECT_EQ(ExitCodeFor(tx.status()), 75);
  EXPECT_GE(took, milliseconds(200));  // retried for retry_for, not just the timeout
  EXPECT_LT(took, milliseconds(3000));
  other.Exec("COMMIT");
  EXPECT_TRUE(Transaction::BeginImmediate(*conn).ok());
}

TEST(Transaction, DeferredUpgradeFailsAtOnceWhateverTheTimeout) {
  // The trap BEGIN IMMEDIATE avoids: a reader that upgrades gets BUSY without waiting.
  TempDir dir;
  std::string db = dir.File("a.db");
  test::MakeWalDb(db, 10);
  auto conn = Connection::Open(db, {.busy_timeout = milliseconds(5000)});
  ASSERT_TRUE(conn->Exec("BEGIN; SELECT count(*) FROM items;").ok());
  test::ExecSql(db, "INSERT INTO items(body) VALUES ('moved on')");
  auto start = std::chrono::steady_clock::now();
  Status s = conn->Exec("DELETE FROM items WHERE id = 1");
  EXPECT_EQ(s.code(), StatusCode::kBusy) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
  ASSERT_TRUE(conn->Exec("ROLLBACK").ok());
}

TEST(MaintainerLock, SecondHolderIsRefusedAndTheLockDiesWithItsHolder) {
  TempDir dir;
  std::string db = dir.File("a.db");
  test::MakeWalDb(db, 1);
  {
    auto first = MaintainerLock::Acquire(db, "");
    ASSERT_TRUE(first.ok());
    auto second = MaintainerLock::Acquire(db, "");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kLockHeld);
    EXPECT_EQ(ExitCodeFor(second.status()), 75);
    EXPECT_NE(second.status().message().find(std::to_string(getpid())), std::string::npos);
  }
  EXPECT_TRUE(MaintainerLock::Acquire(db, "").ok());
  EXPECT_TRUE(MaintainerLock::Acquire(db, dir.path()).ok());
  EXPECT_EQ(MaintainerLock::LockPathFor("/d/a.db", "/run/locks"), "/run/locks/_d_a.db-maintd.lock");
}

TEST(DbStats, HeaderFactsAndFilesystem) {
  TempDir dir;
  std::string db = dir.File("a.db");
  test::ExecSql(db, "PRAGMA auto_vacuum=INCREMENTAL;");
  test::MakeWalDb(db, 2000, 400);
  // The trap: rows deleted here and there leave half-empty pages the freelist does not see.
  test::ExecSql(db, "DELETE FROM items WHERE id % 2 = 0");
  auto conn = Connection::Open(db);
  EXPECT_LT(ReadDbStats(*conn)->freelist_count, 10);
  test::ExecSql(db, "DELETE FROM items WHERE id > 500");
  auto stats = ReadDbStats(*conn);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->journal_mode, "wal");
  EXPECT_EQ(stats->auto_vacuum, 2);
  EXPECT_GT(stats->freelist_count, 50);
  EXPECT_GT(stats->free_ratio(), 0.2);
  EXPECT_FALSE(stats->litestream);
  test::ExecSql(db, "CREATE TABLE _litestream_seq(id INTEGER PRIMARY KEY, seq INTEGER)");
  EXPECT_TRUE(ReadDbStats(*conn)->litestream);
  auto fs = ReadFilesystem(db);
  ASSERT_TRUE(fs.ok());
  EXPECT_FALSE(fs->network) << fs->type;
  auto disk = ReadDiskSpace(db);
  ASSERT_TRUE(disk.ok());
  EXPECT_GT(disk->total_bytes, 0);
  EXPECT_EQ(FileStem("/data/queue.db"), "queue");
  EXPECT_EQ(DirName("/data/queue.db"), "/data");
}

}  // namespace
}  // namespace maintd
