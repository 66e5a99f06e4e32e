// `status`'s per-database object (daemon/status_database.h) read both ways: at rest (the
// header and one immutable read, nothing created beside the database) and through a
// read-only connection. The two must say the same, and the at-rest way must never report
// the stale header of a database whose WAL holds a newer page 1.
//
// `now` is injected: a sweep "an hour from now" sees every file as left alone long enough
// (kRestSettle), so the at-rest way is taken without waiting; a sweep at the real time
// sees the files just written and takes the connection way.
#include "daemon/status_database.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include "lib/inspect/db_header.h"
#include "lib/inspect/db_stats.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::ExecSql;
using test::MakeWalDb;
using test::ProcessResult;
using test::RunMaintd;
using test::TempDir;

StatusSweep Sweep(const Config& config, bool at_rest) {
  StatusSweep sweep;
  sweep.config = &config;
  sweep.now = std::chrono::system_clock::now() + (at_rest ? std::chrono::hours(1)
                                                          : std::chrono::hours(0));
  return sweep;
}

ResolvedDatabase Db(const std::string& path, const std::string& name) {
  ResolvedDatabase db;
  db.name = name;
  db.path = path;
  return db;
}

// Runs `sql` and closes without the checkpoint-on-close: committed frames (page 1 with the
// new counts among them) stay in the -wal, the main file's header keeps the old counts.
// Returns the first column of the last row (PRAGMAs), or -1.
int64_t RunLeavingWalFrames(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t value = -1;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto keep = [](void* out, int, char** values, char**) {
    if (values[0] != nullptr) *static_cast<int64_t*>(out) = std::stoll(values[0]);
    return 0;
  };
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), keep, &value, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  return value;
}

TEST(StatusDatabase, WalHoldingTheNewestHeaderIsNotReportedFromTheStaleOne) {
  TempDir dir;
  Config config;
  const std::string path = dir.File("app.db");
  MakeWalDb(path, 3000, 200);
  ExecSql(path, "PRAGMA wal_checkpoint(TRUNCATE);");
  auto before = ReadDbHeader(path);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  // Big rows come, then half the old rows go: more pages and free pages, in the WAL only.
  RunLeavingWalFrames(path,
                      "INSERT INTO items(body) SELECT hex(randomblob(2000)) FROM items "
                      "WHERE id < 400;"
                      "DELETE FROM items WHERE id <= 1500;");
  ASSERT_GT(FileSize(path + "-wal"), 0);
  // What SQLite says (through the WAL), read without checkpointing either.
  const int64_t pages = RunLeavingWalFrames(path, "PRAGMA page_count");
  const int64_t free_pages = RunLeavingWalFrames(path, "PRAGMA freelist_count");
  // The trap is set: the main file's header still has the old counts.
  auto stale = ReadDbHeader(path);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  ASSERT_EQ(stale->header_page_count, before->header_page_count);
  ASSERT_EQ(stale->freelist_count, before->freelist_count);
  ASSERT_NE(pages, stale->header_page_count);
  ASSERT_NE(free_pages, stale->freelist_count);

  // Even a sweep to which the file looks long untouched must read through the WAL.
  nlohmann::json j = DatabaseStatus(Sweep(config, /*at_rest=*/true), Db(path, "app"));
  ASSERT_FALSE(j.contains("error")) << j.dump();
  EXPECT_EQ(j["page_count"], pages) << j.dump();
  EXPECT_EQ(j["freelist_count"], free_pages) << j.dump();
  EXPECT_GT(j["wal_size"].get<int64_t>(), 0);
  EXPECT_GT(j["wal"]["frames"].get<int64_t>(), 0) << j.dump();
}

// The same JSON both ways, for a WAL and a rollback-journal database with journal rows
// (written by a real `once`), and nothing created beside a database read at rest.
TEST(StatusDatabase, AtRestSaysWhatTheConnectionSaysAndCreatesNothing) {
  TempDir dir;
  Config config;
  const std::string wal = dir.File("wal.db");
  const std::string rollback = dir.File("rollback.db");
  MakeWalDb(wal, 200, 100);
  ExecSql(rollback,
          "CREATE TABLE items(id INTEGER PRIMARY KEY, body TEXT);"
          "INSERT INTO items(body) VALUES ('x');");
  ProcessResult once = RunMaintd({"once", wal, rollback});
  ASSERT_EQ(once.exit_code, 0) << once.out << once.err;
  ASSERT_FALSE(FileExists(wal + "-wal"));
  ASSERT_FALSE(FileExists(wal + "-shm"));

  for (const auto& [path, mode] : {std::pair{wal, "wal"}, std::pair{rollback, "delete"}}) {
    SCOPED_TRACE(path);
    ResolvedDatabase db = Db(path, FileStem(path));
    StatusSweep rest_sweep = Sweep(config, /*at_rest=*/true);
    StatusSweep conn_sweep = Sweep(config, /*at_rest=*/false);
    conn_sweep.now = rest_sweep.now;  // the same clock for the running/pin ages
    nlohmann::json at_rest = DatabaseStatus(rest_sweep, db);
    // The at-rest way opened nothing that creates the -wal or -shm.
    EXPECT_FALSE(FileExists(path + "-wal"));
    EXPECT_FALSE(FileExists(path + "-shm"));
    EXPECT_EQ(at_rest["journal_mode"], mode);
    EXPECT_GE(at_rest["jobs"].size(), 5u) << at_rest.dump();
    EXPECT_EQ(at_rest["integrity"]["status"], "healthy") << at_rest.dump();
    // A file changed just now is not at rest: the connection way.
    conn_sweep.now = std::chrono::system_clock::now();
    nlohmann::json through_connection = DatabaseStatus(conn_sweep, db);
    if (std::string(mode) == "wal") {
      // A read-only connection leaves them (it cannot remove them): proof it was taken.
      EXPECT_TRUE(FileExists(path + "-shm"));
    }
    EXPECT_EQ(at_rest, through_connection) << "at rest:    " << at_rest.dump()
                                           << "\nconnection: " << through_connection.dump();
  }
}

}  // namespace
}  // namespace maintd
