#include "lib/queue/table_info.h"

#include <sqlite3.h>

#include <cctype>

#include "lib/sqlite/statement.h"

namespace maintd {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const ColumnInfo* TableInfo::FindColumn(std::string_view column) const {
  for (const auto& c : columns) {
    if (EqualsIgnoreCase(c.name, column)) return &c;
  }
  return nullptr;
}

std::string QuotedColumnList(const std::vector<std::string>& names, const std::string& prefix) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += prefix + QuoteIdentifier(n);
  }
  return out;
}

Result<std::optional<TableInfo>> ReadTableInfo(Connection& conn, const std::string& schema,
                                               const std::string& table) {
  TableInfo info;
  {
    auto st = conn.Prepare("SELECT name, sql FROM " + QuoteIdentifier(schema) +
                           ".sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE");
    if (!st.ok()) return st.status();
    st->Bind(1, table);
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<TableInfo>();
    info.name = st->Text(0);
    info.create_sql = st->Text(1);
  }
  // CREATE VIRTUAL TABLE rows also have type 'table'.
  if (info.create_sql.rfind("CREATE VIRTUAL", 0) == 0) return std::optional<TableInfo>();
  {
    auto st = conn.Prepare("SELECT wr FROM pragma_table_list WHERE schema = ?1 AND name = ?2");
    if (!st.ok()) return st.status();
    st->Bind(1, schema).Bind(2, info.name);
    auto row = st->Step();
    if (!row.ok()) return row.status();
    info.without_rowid = *row && st->Int(0) != 0;
  }
  {
    auto st =
        conn.Prepare("SELECT name, type, hidden, \"notnull\" FROM pragma_table_xinfo(?1, ?2)");
    if (!st.ok()) return st.status();
    st->Bind(1, info.name).Bind(2, schema);
    while (true) {
      auto row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      info.columns.push_back(
          {st->Text(0), st->Text(1), static_cast<int>(st->Int(2)), st->Int(3) != 0});
    }
  }
  if (!info.without_rowid) {
    for (const char* candidate : {"rowid", "_rowid_", "oid"}) {
      if (info.FindColumn(candidate) == nullptr) {
        info.rowid_name = candidate;
        break;
      }
    }
  }
  if (!info.rowid_name.empty()) {
    // SQLite itself says which column (if any) the rowid resolves to: the declared
    // INTEGER PRIMARY KEY, with all its quirks ("INTEGER PRIMARY KEY DESC" is no alias).
    auto st = conn.Prepare("SELECT " + info.rowid_name + " FROM " + QuoteIdentifier(schema) + "." +
                           QuoteIdentifier(info.name));
    if (!st.ok()) return st.status();
    const char* origin = sqlite3_column_origin_name(st->raw(), 0);
    if (origin != nullptr && info.FindColumn(origin) != nullptr) {
      info.rowid_alias = info.FindColumn(origin)->name;
    }
  }
  return std::optional<TableInfo>(std::move(info));
}

Result<std::string> IndexLeadingWith(Connection& conn, const std::string& table,
                                     const std::string& column) {
  auto st = conn.Prepare(
      "SELECT il.name FROM pragma_index_list(?1) AS il "
      "JOIN pragma_index_xinfo(il.name) AS ii ON ii.seqno = 0 "
      "WHERE il.partial = 0 AND ii.desc = 0 AND ii.name = ?2 COLLATE NOCASE "
      "ORDER BY il.seq LIMIT 1");
  if (!st.ok()) return st.status();
  st->Bind(1, table).Bind(2, column);
  auto row = st->Step();
  if (!row.ok()) return row.status();
  return *row ? st->Text(0) : std::string();
}

}  // namespace maintd
