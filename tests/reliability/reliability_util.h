#pragma once
// Helpers shared by the reliability tests (tests/reliability/): content digests of a
// database, the writer's committed ids, directory listings, corrupting pages.
// Header-only: the folder's binary is built from *_test.cc files only.

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "lib/config/config.h"
#include "tests/support/test_util.h"

namespace maintd::test {

// FNV-1a over every row of every application table (names not starting with "sqlite_"),
// in rowid order, with each value's type: equal digests = equal content. The journal tables
// and sqlite_stat1 are left out. "" when the database cannot be read (and ADD_FAILURE).
inline std::string ContentDigest(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return "";
  }
  sqlite3_busy_timeout(db, 10000);
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
  };
  std::vector<std::string> tables;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                     "'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                     -1, &st, nullptr);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  bool ok = true;
  int64_t rows = 0;
  for (const auto& t : tables) {
    mix(t.data(), t.size() + 1);
    std::string quoted = "\"";
    for (char c : t) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\"";
    std::string sql = "SELECT rowid, * FROM " + quoted + " ORDER BY rowid";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ok = false;
      break;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      ++rows;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        int type = sqlite3_column_type(st, i);
        mix(&type, sizeof type);
        const void* blob = sqlite3_column_blob(st, i);
        mix(blob ? blob : "", static_cast<size_t>(sqlite3_column_bytes(st, i)));
      }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) ok = false;
  }
  if (!ok) ADD_FAILURE() << "cannot read " << path << ": " << sqlite3_errmsg(db);
  sqlite3_close(db);
  if (!ok) return "";
  std::ostringstream out;
  out << std::hex << h << "/" << std::dec << rows << "rows";
  return out.str();
}

// Entries of `dir` (names only), without the files SQLite and the maintainer manage beside
// a database (-wal, -shm, -journal, the maintainer lock).
inline std::set<std::string> DirEntries(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    auto ends = [&n](const std::string& s) {
      return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
    };
    if (ends("-wal") || ends("-shm") || ends("-journal") || ends("-maintd.lock")) continue;
    out.insert(n);
  }
  return out;
}

// The ids in a writer's --committed file (what it saw committed, in order).
inline std::vector<int64_t> ReadCommittedIds(const std::string& file) {
  std::vector<int64_t> ids;
  std::istringstream in(ReadFile(file));
  int64_t id;
  while (in >> id) ids.push_back(id);
  return ids;
}

// How many of `ids` are missing from writer_rows in `db` (0 = none lost).
inline int64_t MissingIds(const std::string& db, const std::vector<int64_t>& ids) {
  if (ids.empty()) return 0;
  std::string list;
  int64_t missing = 0;
  // Checked in chunks to keep the statements short.
  for (size_t i = 0; i < ids.size(); i += 500) {
    list.clear();
    size_t end = std::min(ids.size(), i + 500);
    for (size_t k = i; k < end; ++k) list += (list.empty() ? "" : ",") + std::to_string(ids[k]);
    int64_t present =
        QueryInt(db, "SELECT count(*) FROM writer_rows WHERE id IN (" + list + ")");
    missing += static_cast<int64_t>(end - i) - present;
  }
  return missing;
}

// Overwrites `count` pages from `first_page` (1-based) with junk. Call only while no SQLite
// connection of this process has the file open.
inline void OverwritePages(const std::string& path, int64_t first_page, int64_t count,
                           int64_t page_size = 4096) {
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << path;
  std::string junk(static_cast<size_t>(page_size), '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 7 + 13) & 0xff);
  for (int64_t p = first_page; p < first_page + count; ++p) {
    ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), (p - 1) * page_size),
              static_cast<ssize_t>(junk.size()));
  }
  ::fsync(fd);
  ::close(fd);
}

// Iterations of each crash scenario: MAINTD_CRASH_ITERATIONS (default `fallback`).
inline int CrashIterations(int fallback) {
  const char* v = std::getenv("MAINTD_CRASH_ITERATIONS");
  int n = v ? std::atoi(v) : 0;
  return n > 0 ? n : fallback;
}

inline ResolvedDatabase ReliabilityDb(const std::string& path, const std::string& name = "app") {
  ResolvedDatabase db;
  db.name = name;
  db.path = path;
  return db;
}

}  // namespace maintd::test
