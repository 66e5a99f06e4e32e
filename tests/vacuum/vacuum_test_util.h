#pragma once
// Helpers for the vacuum tests: fragmented databases made once per binary and copied per
// test, maintainer handles, and journal rows read back.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/jobs/maintained_database.h"
#include "tests/support/test_util.h"

namespace maintd::test {

struct FragmentedDbSpec {
  int rows = 48000;  // ~4 rows per 4 KiB page: ~48 MB
  int row_bytes = 1000;
  int delete_up_to = 36000;                 // rows with id <= this are deleted: ~9,000 free pages
  const char* auto_vacuum = "INCREMENTAL";  // NONE | INCREMENTAL
  bool wal = true;
};

// A database with table items(id INTEGER PRIMARY KEY, body BLOB) from which a contiguous
// range of rows was deleted, so most freed pages land on the freelist.
inline void MakeFragmentedDb(const std::string& path, const FragmentedDbSpec& spec) {
  ExecSql(path, std::string("PRAGMA auto_vacuum=") + spec.auto_vacuum + ";" +
                    (spec.wal ? "PRAGMA journal_mode=WAL;" : "") +
                    "CREATE TABLE items(id INTEGER PRIMARY KEY, body BLOB);"
                    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<" +
                    std::to_string(spec.rows) + ") INSERT INTO items SELECT i, randomblob(" +
                    std::to_string(spec.row_bytes) + ") FROM c;" +
                    "DELETE FROM items WHERE id <= " + std::to_string(spec.delete_up_to) + ";");
}

// A database made once per test binary from `spec` (cached by `key`), for tests to copy.
inline const std::string& TemplateDb(const std::string& key, const FragmentedDbSpec& spec) {
  static TempDir* dir = new TempDir();  // removed at exit (atexit below)
  static std::map<std::string, std::string> made;
  static const bool cleanup = [] {
    std::atexit([] { delete dir; });
    return true;
  }();
  (void)cleanup;
  auto it = made.find(key);
  if (it != made.end()) return it->second;
  std::string path = dir->File(key + ".db");
  MakeFragmentedDb(path, spec);
  return made.emplace(key, path).first->second;
}

// Copies a template database file (closed, WAL already checkpointed away) to `dest`.
inline void CopyDb(const std::string& from, const std::string& dest) {
  std::filesystem::copy_file(from, dest, std::filesystem::copy_options::overwrite_existing);
}

inline ResolvedDatabase Resolved(const std::string& path, const VacuumPolicy& vacuum = {}) {
  ResolvedDatabase db;
  db.name = "app";
  db.path = path;
  db.policy.vacuum = vacuum;
  return db;
}

inline std::unique_ptr<MaintainedDatabase> AcquireOrDie(const ResolvedDatabase& db) {
  auto m = MaintainedDatabase::Acquire(db, MaintainerOptions{});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

struct VacuumLogRow {
  std::string type, status, error;
  int64_t pages_freed = 0, bytes_freed = 0, duration_ms = 0;
};

inline std::vector<VacuumLogRow> VacuumLog(const std::string& path) {
  std::vector<VacuumLogRow> rows;
  int64_t n = QueryInt(path, "SELECT count(*) FROM sqlite_vacuum_log");
  for (int64_t i = 0; i < n; ++i) {
    std::string where = " FROM sqlite_vacuum_log ORDER BY id LIMIT 1 OFFSET " + std::to_string(i);
    VacuumLogRow r;
    r.type = QueryText(path, "SELECT vacuum_type" + where);
    r.status = QueryText(path, "SELECT status" + where);
    r.error = QueryText(path, "SELECT coalesce(error_message, '')" + where);
    r.pages_freed = QueryInt(path, "SELECT pages_freed" + where);
    r.bytes_freed = QueryInt(path, "SELECT bytes_freed" + where);
    r.duration_ms = QueryInt(path, "SELECT duration_ms" + where);
    rows.push_back(r);
  }
  return rows;
}

inline int64_t CountVacuumLogRows(const std::string& path) {
  int64_t present =
      QueryInt(path, "SELECT count(*) FROM sqlite_master WHERE name='sqlite_vacuum_log'");
  return present == 0 ? 0 : QueryInt(path, "SELECT count(*) FROM sqlite_vacuum_log");
}

inline const MetricRow* FindMetric(const JobReport& report, const std::string& name) {
  for (const MetricRow& m : report.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace maintd::test
