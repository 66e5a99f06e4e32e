#include "lib/queue/archive.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cctype>

#include "lib/sqlite/statement.h"
#include "lib/sqlite/transaction.h"

namespace maintd {

constexpr char kSourceSchema[] = "maintd_source";

std::string ReadOnlyUri(const std::string& path) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "file:";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out + "?mode=ro";
}

Result<ReadOnlyAttachment> ReadOnlyAttachment::Attach(Connection& conn, const std::string& path,
                                                      const std::string& schema_name) {
  auto st = conn.Prepare("ATTACH DATABASE ?1 AS " + QuoteIdentifier(schema_name));
  if (!st.ok()) return st.status();
  st->Bind(1, ReadOnlyUri(path));
  auto done = st->Step();
  if (!done.ok()) return done.status();
  ReadOnlyAttachment attachment(&conn, schema_name);
  // A connection opened without URI support would have attached a file literally named
  // "file:...": refuse rather than write next to it.
  if (sqlite3_db_readonly(conn.raw(), schema_name.c_str()) != 1) {
    return Status::Failed("attaching " + path + " read-only failed (URI filenames disabled?)");
  }
  // Same file? Compared by device and inode, so symlinks and relative spellings agree.
  const char* file = sqlite3_db_filename(conn.raw(), schema_name.c_str());
  struct stat a {
  }, b{};
  bool same = file != nullptr && ::stat(file, &a) == 0 && ::stat(path.c_str(), &b) == 0 &&
              a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  if (!same) return Status::Failed("attached " + path + " but SQLite opened another file");
  return attachment;
}

ReadOnlyAttachment::~ReadOnlyAttachment() {
  if (conn_ != nullptr) (void)conn_->Exec("DETACH DATABASE " + QuoteIdentifier(name_));
}

std::string RowidsJson(const std::vector<int64_t>& rowids) {
  std::string out = "[";
  for (size_t i = 0; i < rowids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(rowids[i]);
  }
  return out + "]";
}

std::vector<std::string> CopyColumns(const TableInfo& table) {
  std::vector<std::string> cols;
  if (table.rowid_alias.empty()) cols.push_back(table.rowid_name);
  for (const auto& c : table.columns) {
    if (c.hidden == 0) cols.push_back(c.name);
  }
  return cols;
}

std::string IdenticalCopyExistsSql(const TableInfo& table, const std::string& source_qualified,
                                   const std::string& archive_schema) {
  std::string sql = "EXISTS (SELECT 1 FROM " + QuoteIdentifier(archive_schema) + "." +
                    QuoteIdentifier(table.name) + " AS maintd_a WHERE maintd_a." +
                    table.rowid_name + " = " + source_qualified + "." + table.rowid_name;
  for (const auto& c : table.columns) {
    if (c.hidden != 0) continue;
    std::string a = "maintd_a." + QuoteIdentifier(c.name);
    std::string s = source_qualified + "." + QuoteIdentifier(c.name);
    // BINARY: a NOCASE column must not make 'ABC' an "identical" copy of 'abc'; typeof:
    // 1 IS 1.0 holds in SQL but the values differ.
    sql += " AND " + a + " IS " + s + " COLLATE BINARY AND typeof(" + a + ") = typeof(" + s + ")";
  }
  return sql + ")";
}

Result<Archive> Archive::Open(const std::string& path, const std::string& source_path,
                              const TableInfo& source, Millis busy_timeout) {
  OpenOptions options;
  options.create = true;
  options.busy_timeout = busy_timeout;
  auto conn = Connection::Open(path, options);
  if (!conn.ok()) return conn.status();
  // Durable commits: the source rows are deleted only after the archive commit returns.
  MAINTD_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=FULL"));
  Archive archive(std::move(*conn), source);
  {
    auto tx = Transaction::BeginImmediate(*archive.conn_);
    if (!tx.ok()) return tx.status();
    auto existing = ReadTableInfo(*archive.conn_, "main", source.name);
    if (!existing.ok()) return existing.status();
    if (!existing->has_value()) {
      MAINTD_RETURN_IF_ERROR(archive.conn_->Exec(source.create_sql));
    } else {
      for (const auto& c : source.columns) {
        if (c.hidden == 0 && (*existing)->FindColumn(c.name) == nullptr) {
          return Status::Config("the archive table '" + source.name + "' in " + path +
                                " has no column '" + c.name + "'");
        }
      }
    }
    MAINTD_RETURN_IF_ERROR(tx->Commit());
  }
  auto att = ReadOnlyAttachment::Attach(*archive.conn_, source_path, kSourceSchema);
  if (!att.ok()) return att.status();
  archive.attachment_ = std::make_unique<ReadOnlyAttachment>(std::move(*att));
  return archive;
}

Result<CopyResult> Archive::CopyBatch(const std::vector<int64_t>& rowids) {
  CopyResult result;
  if (rowids.empty()) return result;
  std::string table = QuoteIdentifier(source_.name);
  std::string src = QuoteIdentifier(kSourceSchema) + "." + table;
  std::string in_batch = source_.rowid_name + " IN (SELECT value FROM json_each(?1))";
  std::string cols = QuotedColumnList(CopyColumns(source_));
  std::string json = RowidsJson(rowids);

  auto tx = Transaction::BeginImmediate(*conn_);
  if (!tx.ok()) return tx.status();
  {
    auto st = conn_->Prepare("INSERT OR IGNORE INTO main." + table + " (" + cols + ") SELECT " +
                             cols + " FROM " + src + " WHERE " + in_batch);
    if (!st.ok()) return st.status();
    st->Bind(1, json);
    auto done = st->Step();
    if (!done.ok()) return done.status();
    result.copied = conn_->Changes();
  }
  {
    auto st = conn_->Prepare("SELECT count(*), coalesce(sum(" +
                             IdenticalCopyExistsSql(source_, src, "main") + "), 0) FROM " + src +
                             " WHERE " + in_batch);
    if (!st.ok()) return st.status();
    st->Bind(1, json);
    auto row = st->Step();
    if (!row.ok()) return row.status();
    result.present = st->Int(0);
    result.verified = st->Int(1);
  }
  result.conflicts = result.present - result.verified;
  MAINTD_RETURN_IF_ERROR(tx->Commit());
  return result;
}

}  // namespace maintd
