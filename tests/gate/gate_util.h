#pragma once
// Fixtures of the gate suite (tests/gate/): a corrupt database the daemon never met (no
// journal tables, no lock file), in WAL mode with committed frames in its -wal or in
// rollback-journal mode, run through the real binary in the default configuration
// (`journal: target`, no config file) or with a central journal. Every command that may
// write must leave the database and its -wal byte for byte as they were (CONTRACT.md
// section 4: "A database found corrupt is not written at all").
// Header-only: the folder's binary is built from *_test.cc files only.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/reliability/reliability_util.h"  // OverwritePages
#include "tests/support/test_util.h"

namespace maintd::test {

enum class Flavour { kWal, kRollback };
enum class JournalKind { kTarget, kCentral };

inline std::string FlavourName(Flavour f) { return f == Flavour::kWal ? "Wal" : "Rollback"; }
inline std::string JournalName(JournalKind j) {
  return j == JournalKind::kTarget ? "TargetJournal" : "CentralJournal";
}

// For gtest's messages about parameters.
inline void PrintTo(Flavour f, std::ostream* os) { *os << FlavourName(f); }
inline void PrintTo(JournalKind j, std::ostream* os) { *os << JournalName(j); }

constexpr int kPageSize = 4096;

// Rows of `sql` (first column, as text) on `path` opened read-only, so that closing the
// connection never checkpoints the -wal into the file. An SQLITE_CORRUPT error met while
// stepping ends the list as one more row.
inline std::vector<std::string> ReadOnlyRows(const std::string& path, const std::string& sql) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      rows.emplace_back(t ? reinterpret_cast<const char*>(t) : "NULL");
    }
    if (rc != SQLITE_DONE) rows.push_back(std::string("error: ") + sqlite3_errmsg(db));
  } else {
    ADD_FAILURE() << "cannot read " << path << ": " << sqlite3_errmsg(db) << "\n" << sql;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

// The lines of every row of `sql` (SQLite 3.40 returns the problems quick_check finds in one
// tree as one row of several lines).
inline std::vector<std::string> ReadOnlyLines(const std::string& path, const std::string& sql) {
  std::vector<std::string> lines;
  for (const auto& row : ReadOnlyRows(path, sql)) {
    std::istringstream in(row);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  return lines;
}

// Page numbers of the frames in a -wal file (empty when it has none or does not exist).
inline std::set<int64_t> WalPages(const std::string& wal) {
  std::set<int64_t> pages;
  std::string bytes = ReadFile(wal);
  auto be32 = [&bytes](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
  };
  for (size_t at = 32; at + 24 + kPageSize <= bytes.size(); at += 24 + kPageSize) {
    pages.insert(be32(at));
  }
  return pages;
}

// The fixture: auto_vacuum=incremental with free pages (so every vacuum has work to do),
// a table `big` of 2500 rows of 200-byte blobs (~130 leaf pages), a small table `small`.
// The free pages come right after the root pages, so that a writer can create tables
// (which in an auto_vacuum database takes the page after the last root) and add rows
// without reading a damaged page: what the daemon would write succeeds, as on a database
// whose damage is elsewhere.
// In WAL mode the WAL is checkpointed away first, then three commits into `small` are left
// in the -wal (no checkpoint on close). With `corrupt`, every leaf page of `big` (never
// page 1, never a page with a newer copy in the -wal) is overwritten with junk: quick_check
// then reports 100+ problems. Returns the pages overwritten.
inline std::vector<int64_t> MakeFixture(const std::string& db, Flavour flavour, bool corrupt) {
  // synchronous=OFF: the fixture is built in a few ms instead of waiting for fsyncs.
  ExecSql(db, std::string("PRAGMA synchronous=OFF; PRAGMA page_size=") + std::to_string(kPageSize) +
                  "; PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=" +
                  (flavour == Flavour::kWal ? "WAL" : "DELETE") +
                  ";"
                  "CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB);"
                  "CREATE TABLE spare(id INTEGER PRIMARY KEY, b BLOB);"
                  "CREATE TABLE small(id INTEGER PRIMARY KEY, v TEXT);"
                  "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<100) "
                  "INSERT INTO spare(b) SELECT randomblob(1000) FROM c;"
                  "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<2500) "
                  "INSERT INTO big(b) SELECT randomblob(200) FROM c;"
                  "DELETE FROM spare; PRAGMA wal_checkpoint(TRUNCATE);");
  std::vector<int64_t> leaves;
  for (const auto& p : ReadOnlyRows(db,
                                    "SELECT pageno FROM dbstat WHERE name = 'big' AND "
                                    "pagetype = 'leaf' ORDER BY pageno")) {
    if (p.empty() || !std::isdigit(static_cast<unsigned char>(p[0]))) {
      ADD_FAILURE() << "dbstat: " << p;
      continue;
    }
    leaves.push_back(std::stoll(p));
  }
  if (flavour == Flavour::kWal) {
    sqlite3* conn = nullptr;
    EXPECT_EQ(sqlite3_open(db.c_str(), &conn), SQLITE_OK);
    sqlite3_db_config(conn, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(sqlite3_exec(conn,
                             "PRAGMA synchronous=OFF; PRAGMA wal_autocheckpoint=0; "
                             "INSERT INTO small(v) "
                             "VALUES ('committed in the wal');",
                             nullptr, nullptr, nullptr),
                SQLITE_OK)
          << sqlite3_errmsg(conn);
    }
    sqlite3_close(conn);
  }
  std::vector<int64_t> overwritten;
  if (!corrupt) return overwritten;
  std::set<int64_t> in_wal = WalPages(db + "-wal");
  for (int64_t page : leaves) {
    if (page > 1 && in_wal.count(page) == 0) overwritten.push_back(page);
  }
  // One OverwritePages (and one fsync) per run of consecutive pages.
  for (size_t i = 0; i < overwritten.size();) {
    size_t j = i + 1;
    while (j < overwritten.size() && overwritten[j] == overwritten[j - 1] + 1) ++j;
    OverwritePages(db, overwritten[i], static_cast<int64_t>(j - i), kPageSize);
    i = j;
  }
  return overwritten;
}

// The bytes of a database and of its -wal (nullopt: no such file, or an empty -wal).
struct DbBytes {
  std::optional<std::string> db, wal;
};

inline std::optional<std::string> ReadIfExists(const std::string& path) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  return ReadFile(path);
}

// An empty -wal counts as none: SQLite creates one for any reader of a WAL database.
inline DbBytes ReadDbBytes(const std::string& db) {
  DbBytes b{ReadIfExists(db), ReadIfExists(db + "-wal")};
  if (b.wal && b.wal->empty()) b.wal.reset();
  return b;
}

// "" when equal, else what differs (sizes, first differing page).
inline std::string Difference(const std::string& name, const std::optional<std::string>& before,
                              const std::optional<std::string>& after) {
  if (before == after) return "";
  if (!before || !after) {
    return name + (before ? " was deleted" : " appeared") + "; ";
  }
  size_t i = 0;
  while (i < before->size() && i < after->size() && (*before)[i] == (*after)[i]) ++i;
  return name + " changed: " + std::to_string(before->size()) + " -> " +
         std::to_string(after->size()) + " bytes, first difference at byte " + std::to_string(i) +
         " (page " + std::to_string(i / kPageSize + 1) + "); ";
}

inline void ExpectSameBytes(const DbBytes& before, const std::string& db, const std::string& what) {
  DbBytes after = ReadDbBytes(db);
  std::string diff =
      Difference("database", before.db, after.db) + Difference("-wal", before.wal, after.wal);
  EXPECT_EQ(diff, "") << "`" << what << "` wrote to the corrupt database";
}

inline bool ContainsNoCase(std::string text, std::string what) {
  for (auto* s : {&text, &what}) {
    for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text.find(what) != std::string::npos;
}

// The journal tables (CONTRACT.md section 7) in `db`, read without writing.
inline int64_t JournalTablesIn(const std::string& db) {
  return SilentQueryInt(db,
                        "SELECT count(*) FROM sqlite_master WHERE name IN "
                        "('sqlite_vacuum_log', 'sqlite_health_checks', "
                        "'sqlite_performance_metrics')");
}

// Test parameters: every flavour in every configuration.
using WorldParam = std::tuple<Flavour, JournalKind>;

inline std::string WorldName(const ::testing::TestParamInfo<WorldParam>& info) {
  return FlavourName(std::get<0>(info.param)) + "_" + JournalName(std::get<1>(info.param));
}

inline auto AllWorlds() {
  return ::testing::Combine(::testing::Values(Flavour::kWal, Flavour::kRollback),
                            ::testing::Values(JournalKind::kTarget, JournalKind::kCentral));
}

// One test's world: its own temp dir with a fresh fixture, and the way to run the binary
// in the chosen configuration: the default one (no --config, SQLITE_MAINTD_CONFIG unset,
// so `journal: target`), or a config file with a central journal that lists the database
// (which is still passed by path).
class GateWorld {
 public:
  GateWorld(Flavour flavour, JournalKind kind, bool corrupt = true)
      : journal_kind_(kind), db_(dir_.File("app.db")) {
    ::unsetenv("SQLITE_MAINTD_CONFIG");
    overwritten_ = MakeFixture(db_, flavour, corrupt);
    if (kind == JournalKind::kCentral) {
      WriteFile(config(),
                "journal: " + journal() + "\ndatabases:\n  - name: app\n    path: " + db_ + "\n");
    }
    bytes_ = ReadDbBytes(db_);
  }

  const std::string& db() const { return db_; }
  std::string journal() const { return dir_.File("journal.db"); }
  std::string config() const { return dir_.File("maintd.yaml"); }
  std::string File(const std::string& name) const { return dir_.File(name); }
  const std::string& dir() const { return dir_.path(); }
  const DbBytes& bytes() const { return bytes_; }
  const std::vector<int64_t>& overwritten() const { return overwritten_; }

  // argv for the binary: [--config FILE] args... (the caller puts DB where it belongs).
  std::vector<std::string> Argv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv;
    if (journal_kind_ == JournalKind::kCentral) argv = {"--config", config()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  ProcessResult Run(const std::vector<std::string>& args) const { return RunMaintd(Argv(args)); }

  // Critical quick_check rows for this database in the central journal.
  int64_t CentralCriticalQuickChecks() const {
    return SilentQueryInt(journal(),
                          "SELECT count(*) FROM sqlite_health_checks WHERE check_type = "
                          "'quick_check' AND status = 'critical' AND db_path = '" +
                              db_ + "'");
  }

 private:
  JournalKind journal_kind_;
  TempDir dir_;
  std::string db_;
  std::vector<int64_t> overwritten_;
  DbBytes bytes_;
};

}  // namespace maintd::test
