#pragma once
// What the queue jobs need to know about one table: its columns, its CREATE statement,
// whether it is a rowid table, how to address its rowid, and whether an index leads with a
// given column. Read through an open connection; names compare case-insensitively, as
// SQLite resolves them.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/status.h"
#include "lib/sqlite/connection.h"

namespace maintd {

struct ColumnInfo {
  std::string name;  // as declared
  std::string type;  // declared type, "" when none
  int hidden = 0;    // pragma table_xinfo: 0 normal, 2/3 generated (not insertable)
  bool notnull = false;  // declared NOT NULL
};

struct TableInfo {
  std::string name;        // as stored in sqlite_master
  std::string create_sql;  // sqlite_master.sql
  bool without_rowid = false;
  std::vector<ColumnInfo> columns;
  // The name that reaches the rowid in SQL ("rowid", or "_rowid_"/"oid" when a real column
  // shadows "rowid"); "" for WITHOUT ROWID tables or when all three are shadowed.
  std::string rowid_name;
  // The INTEGER PRIMARY KEY column that aliases the rowid, "" when there is none.
  std::string rowid_alias;

  // The declared spelling of `name`, or nullptr when the table has no such column.
  const ColumnInfo* FindColumn(std::string_view column) const;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Reads the table `table` of schema `schema` ("main", or an attached name). nullopt when
// no ordinary table of that name exists (views and virtual tables count as missing).
Result<std::optional<TableInfo>> ReadTableInfo(Connection& conn, const std::string& schema,
                                               const std::string& table);

// The name of an index of `table` (not partial) whose first column is `column`, in
// ascending order (so it yields (column, rowid) order), "" when there is none.
Result<std::string> IndexLeadingWith(Connection& conn, const std::string& table,
                                     const std::string& column);

// "a","b","c" quoted and comma-separated, optionally each prefixed with `prefix` ("x.").
std::string QuotedColumnList(const std::vector<std::string>& names, const std::string& prefix = "");

}  // namespace maintd
