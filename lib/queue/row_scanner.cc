#include "lib/queue/row_scanner.h"

#include <sqlite3.h>

#include "lib/queue/time_expr.h"
#include "lib/sqlite/statement.h"

namespace maintd {

std::string NotKeptSql(const std::string& keep_where) {
  if (keep_where.empty()) return "1";
  return "((\n" + keep_where + "\n) IS NOT TRUE)";
}

Result<RowScanner> RowScanner::Create(Connection& conn, const TableInfo& table,
                                      const std::string& time_column, TimeFormat format,
                                      const std::string& keep_where, SystemTime cutoff,
                                      const std::string& extra_condition) {
  RowScanner s;
  s.conn_ = &conn;
  s.format_ = format;
  s.cutoff_ = cutoff;
  const ColumnInfo* col = table.FindColumn(time_column);
  if (col == nullptr) {
    return Status::Config("table '" + table.name + "' has no column '" + time_column + "'");
  }
  std::string tcol = QuoteIdentifier(col->name);
  std::string rowid = table.rowid_name;
  std::string from = "main." + QuoteIdentifier(table.name);
  std::string filter = TimeBeforeSql(tcol, format, 1) + " AND " + NotKeptSql(keep_where);
  if (!extra_condition.empty()) filter += " AND (" + extra_condition + ")";

  if (TimeComparisonUsesIndex(format)) {
    auto index = IndexLeadingWith(conn, table.name, col->name);
    if (!index.ok()) return index.status();
    s.index_ = *index;
  }
  if (!s.index_.empty()) {
    std::string head = "SELECT " + rowid + ", " + tcol + " FROM " + from + " INDEXED BY " +
                       QuoteIdentifier(s.index_) + " WHERE ";
    std::string tail = filter + " ORDER BY " + tcol + ", " + rowid + " LIMIT ?2";
    s.first_sql_ = head + tail;
    s.next_sql_ = head + "(" + tcol + ", " + rowid + ") > (?3, ?4) AND " + tail;
  } else {
    std::string head = "SELECT " + rowid + " FROM " + from + " NOT INDEXED WHERE ";
    std::string tail = filter + " ORDER BY " + rowid + " LIMIT ?2";
    s.first_sql_ = head + tail;
    s.next_sql_ = head + rowid + " > ?4 AND " + tail;
  }
  // Compile both now: a keep_where or schema problem shows before anything is written.
  for (const std::string* sql : {&s.first_sql_, &s.next_sql_}) {
    auto st = conn.Prepare(*sql);
    if (!st.ok()) return st.status();
  }
  return s;
}

Result<std::vector<int64_t>> RowScanner::Next(int64_t limit) {
  std::vector<int64_t> rowids;
  if (done_) return rowids;
  auto st = conn_->Prepare(started_ ? next_sql_ : first_sql_);
  if (!st.ok()) return st.status();
  BindTime(*st, 1, format_, cutoff_);
  st->Bind(2, limit);
  if (started_) {
    if (!index_.empty()) {
      if (last_time_is_int_)
        st->Bind(3, last_time_int_);
      else
        st->Bind(3, last_time_real_);
    }
    st->Bind(4, last_rowid_);
  }
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    last_rowid_ = st->Int(0);
    rowids.push_back(last_rowid_);
    if (!index_.empty()) {
      last_time_is_int_ = sqlite3_column_type(st->raw(), 1) == SQLITE_INTEGER;
      last_time_int_ = st->Int(1);
      last_time_real_ = st->Double(1);
    }
  }
  started_ = true;
  if (static_cast<int64_t>(rowids.size()) < limit) done_ = true;
  return rowids;
}

}  // namespace maintd
