// Reading a database at rest (lib/inspect/resting_database.h): when it counts as at rest,
// and that a write during the immutable read is seen, so the read is discarded.
#include "lib/inspect/resting_database.h"

#include <gtest/gtest.h>

#include "lib/inspect/db_stats.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

// A clock an hour ahead: every file looks left alone for longer than kRestSettle.
SystemTime Later() { return std::chrono::system_clock::now() + std::chrono::hours(1); }

// A small WAL database of 50 rows, at rest for a clock an hour ahead.
class RestingDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::MakeWalDb(path_, 50);
    rest_ = ReadIfAtRest(path_, Later());
    ASSERT_TRUE(rest_.has_value());
  }
  test::TempDir dir_;
  std::string path_ = dir_.File("app.db");
  std::optional<RestingDatabase> rest_;
};

TEST_F(RestingDatabaseTest, OnlyAnEmptyWalNoJournalAndAnOldFileCountAsAtRest) {
  const std::string& path = path_;
  test::TempDir& dir = dir_;
  const std::optional<RestingDatabase>& rest = rest_;
  EXPECT_TRUE(rest->header.wal());
  EXPECT_EQ(rest->header.header_page_count * rest->header.page_size, FileSize(path));
  // Just written: not at rest at the real time.
  EXPECT_FALSE(ReadIfAtRest(path, std::chrono::system_clock::now()).has_value());
  // A rollback journal with content: a write is under way.
  test::WriteFile(path + "-journal", std::string(512, 'j'));
  EXPECT_FALSE(ReadIfAtRest(path, Later()).has_value());
  test::WriteFile(path + "-journal", "");
  EXPECT_TRUE(ReadIfAtRest(path, Later()).has_value());
  // Frames in the WAL: the header may be stale.
  test::WriteFile(path + "-wal", std::string(4096 + 32, 'w'));
  EXPECT_FALSE(ReadIfAtRest(path, Later()).has_value());
  // Not a database, or missing.
  EXPECT_FALSE(ReadIfAtRest(dir.File("missing.db"), Later()).has_value());
  test::WriteFile(dir.File("junk.db"), std::string(4096, 'x'));
  EXPECT_FALSE(ReadIfAtRest(dir.File("junk.db"), Later()).has_value());
}

TEST_F(RestingDatabaseTest, TheImmutableReadSeesTheDataAndCreatesNoWalOrShm) {
  const std::string& path = path_;
  int64_t rows = -1;
  auto unchanged = ReadWhileAtRest(path, *rest_, [&](Connection& conn) -> Status {
    auto n = conn.QueryInt("SELECT count(*) FROM items");
    if (!n.ok()) return n.status();
    rows = *n;
    return Status::Ok();
  });
  ASSERT_TRUE(unchanged.ok()) << unchanged.status().ToString();
  EXPECT_TRUE(*unchanged);
  EXPECT_EQ(rows, 50);
  EXPECT_FALSE(FileExists(path + "-wal"));
  EXPECT_FALSE(FileExists(path + "-shm"));
}

TEST_F(RestingDatabaseTest, AWriteDuringTheReadDiscardsIt) {
  const std::string& path = path_;
  const std::optional<RestingDatabase>& rest = rest_;
  // Another writer commits while the immutable connection is open (its close checkpoints
  // the row into the main file and removes the WAL again).
  auto unchanged = ReadWhileAtRest(path, *rest, [&](Connection&) -> Status {
    test::ExecSql(path, "INSERT INTO items(body) VALUES ('during the read')");
    return Status::Ok();
  });
  ASSERT_TRUE(unchanged.ok()) << unchanged.status().ToString();
  EXPECT_FALSE(*unchanged) << "a commit during the read must be seen";
  // A failing read is an error, not a result.
  auto failed = ReadWhileAtRest(path, *rest, [](Connection& conn) -> Status {
    return conn.Exec("SELECT * FROM no_such_table");
  });
  EXPECT_FALSE(failed.ok());
}

}  // namespace
}  // namespace maintd
