#include "lib/backup/verify.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "lib/backup/file_util.h"
#include "lib/sqlite/connection.h"

namespace maintd {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

// Runs `sql` (quick_check, integrity_check, or a plain read) and collects problem rows:
// every row that is not "ok". A statement failing with CORRUPT/NOTADB is a problem too.
Status RunCheck(sqlite3* db, const char* sql, bool rows_are_results,
                std::vector<std::string>* problems) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  while (rc == SQLITE_OK || rc == SQLITE_ROW) {
    rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) break;
    if (!rows_are_results) continue;
    const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
    std::string msg = text ? reinterpret_cast<const char*>(text) : "";
    if (msg != "ok" && problems->size() < 10) problems->push_back(msg);
  }
  if (rc == SQLITE_DONE) return Status::Ok();
  int primary = rc & 0xff;
  std::string msg = sqlite3_errmsg(db);
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    problems->push_back(msg);
    return Status::Ok();
  }
  return StatusFromSqlite(rc, std::string(sql) + ": " + msg);
}

}  // namespace

Result<VerifyResult> VerifyBackupFile(const std::string& path, VerifyMode mode) {
  auto start = std::chrono::steady_clock::now();
  auto header = ReadDbHeader(path);
  if (!header.ok()) return header.status();

  sqlite3* raw = nullptr;
  std::string uri = SqliteFileUri(path, "immutable=1");
  int rc = sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  std::unique_ptr<sqlite3, DbCloser> db(raw);
  if (rc != SQLITE_OK) {
    return StatusFromSqlite(
        rc, "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  std::vector<std::string> problems;
  // Reading the schema catches a garbled page 1 even with verify: none.
  MAINTD_RETURN_IF_ERROR(
      RunCheck(db.get(), "SELECT count(*) FROM sqlite_master", false, &problems));
  if (problems.empty() && mode != VerifyMode::kNone) {
    const char* sql =
        mode == VerifyMode::kFull ? "PRAGMA integrity_check(20)" : "PRAGMA quick_check(20)";
    MAINTD_RETURN_IF_ERROR(RunCheck(db.get(), sql, true, &problems));
  }
  VerifyResult result;
  result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  if (!problems.empty()) {
    std::string joined;
    for (size_t i = 0; i < problems.size() && i < 3; ++i) {
      joined += (i ? "; " : "") + problems[i];
    }
    return Status::Corrupt(path + " failed " +
                           (mode == VerifyMode::kFull    ? std::string("integrity_check")
                            : mode == VerifyMode::kQuick ? std::string("quick_check")
                                                         : std::string("schema read")) +
                           ": " + joined);
  }
  result.detail = "ok";
  return result;
}

}  // namespace maintd
