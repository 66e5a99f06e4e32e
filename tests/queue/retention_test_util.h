#pragma once
// Fixture for the retention tests: an events table in a chosen time format, rows of given
// ages, a snapshot of the original rows, and checks that compare source, archive and
// snapshot row by row.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "lib/jobs/retention.h"
#include "tests/queue/queue_test_util.h"
#include "tests/support/test_util.h"

namespace maintd::test {

inline constexpr const char* NULL_STATUS = nullptr;

class RetentionFixture : public ::testing::Test {
 protected:
  static constexpr int64_t kNowSec = 1767225600;  // 2026-01-01T00:00:00Z

  void SetUp() override {
    path_ = dir_.File("app.db");
    archive_ = dir_.File("archive.db");
    snapshot_ = dir_.File("snapshot.db");
    rule_.table = "events";
    rule_.pause_between_batches = Millis(0);
  }
  int64_t NowSec() const { return kNowSec; }

  void CreateEvents(TimeFormat format, bool index) {
    format_ = format;
    rule_.time_format = format;
    ExecSql(path_, std::string("PRAGMA journal_mode=WAL;") +
                       "CREATE TABLE events(id INTEGER PRIMARY KEY, created_at, status TEXT, "
                       "body TEXT, age_days INTEGER);" +
                       (index ? "CREATE INDEX events_created ON events(created_at);" : ""));
  }

  // n rows `age_days` old (plus up to a minute), in the table's time format.
  void InsertEvents(int n, int age_days, const char* status) {
    std::string t =
        "(" + std::to_string(kNowSec) + " - " + std::to_string(age_days) + " * 86400 - (i % 60))";
    std::string value = format_ == TimeFormat::kUnix ? t
                        : format_ == TimeFormat::kUnixMs
                            ? t + " * 1000"
                            : "strftime('%Y-%m-%dT%H:%M:%SZ', " + t + ", 'unixepoch')";
    std::string st = status ? "'" + std::string(status) + "'" : "NULL";
    ExecSql(path_, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < " +
                       std::to_string(n) +
                       ") INSERT INTO events(created_at, status, body, "
                       "age_days) SELECT " +
                       value + ", " + st + ", hex(randomblob(16)), " + std::to_string(age_days) +
                       " FROM n");
  }

  // Every column of the rows matching `where`, in id order.
  std::string Digest(const std::string& where) {
    return QueryText(path_,
                     "SELECT coalesce(group_concat(id || '|' || created_at || '|' || "
                     "coalesce(status, '~') || '|' || body, ','), '') FROM (SELECT * "
                     "FROM events WHERE " +
                         where + " ORDER BY id)");
  }

  void Snapshot() { ExecSql(path_, "VACUUM INTO '" + snapshot_ + "'"); }

  void UseArchive() {
    rule_.archive_after = Millis(30 * 24h);
    rule_.archive_to = archive_;
    rule_.delete_after = Millis(90 * 24h);
  }

  std::string ReadSchema(const std::string& table) {
    return QueryText(path_, "SELECT sql FROM sqlite_master WHERE name = '" + table + "'");
  }

  // A query over main (the source), arch (the archive) and snap (the snapshot).
  int64_t Count(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    sqlite3_busy_timeout(db, 10000);
    for (auto [file, name] : {std::pair{archive_, "arch"}, std::pair{snapshot_, "snap"}}) {
      if (!std::filesystem::exists(file)) continue;
      std::string attach = "ATTACH '" + file + "' AS " + name;
      sqlite3_exec(db, attach.c_str(), nullptr, nullptr, nullptr);
    }
    sqlite3_stmt* st = nullptr;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    } else {
      ADD_FAILURE() << sqlite3_errmsg(db) << "\n" << sql;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
  }

  // Every row of the snapshot is in the source or the archive, byte for byte; the archive
  // holds only rows of the snapshot, each once; and (if >= 0) exactly `archived` of them.
  void ExpectNothingLostNothingDuplicated(int64_t archived, const std::string& table = "events") {
    EXPECT_EQ(
        Count("SELECT count(*) FROM (SELECT * FROM snap." + table + " EXCEPT SELECT * FROM main." +
              table + " EXCEPT SELECT * FROM arch." + table + ")"),
        0)
        << "rows lost";
    EXPECT_EQ(Count("SELECT count(*) FROM (SELECT * FROM arch." + table +
                    " EXCEPT SELECT * FROM snap." + table + ")"),
              0)
        << "archive rows that differ from the originals";
    EXPECT_EQ(Count("SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM arch." +
                    table + ")) FROM arch." + table),
              0)
        << "duplicates in the archive";
    if (archived >= 0) {
      EXPECT_EQ(Count("SELECT count(*) FROM arch." + table), archived);
    }
  }

  Result<JobReport> Run(StopToken* stop = nullptr) {
    ResolvedDatabase db = QueueDb(path_);
    db.retention = {rule_};
    auto job = MakeRetentionJob(db, 0);
    EXPECT_EQ(job->name(), "retention");
    EXPECT_EQ(job->traits().access, DbAccess::kWrites);
    return RunJob(*job, db, clock_, stop);
  }

  TempDir dir_;
  std::string path_, archive_, snapshot_;
  TimeFormat format_ = TimeFormat::kUnix;
  RetentionRule rule_;
  FakeClock clock_{SystemTime(std::chrono::seconds(kNowSec))};
};

}  // namespace maintd::test
