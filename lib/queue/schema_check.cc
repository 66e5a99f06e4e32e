#include "lib/queue/schema_check.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cctype>

#include "lib/inspect/db_stats.h"
#include "lib/queue/table_info.h"
#include "lib/queue/time_unit_check.h"
#include "lib/sqlite/statement.h"

namespace maintd {
namespace {

std::string KeyPath(const std::string& db, const char* list, size_t index, const char* key) {
  return "databases[" + db + "]." + list + "[" + std::to_string(index) + "]." + key;
}

// Table exists and is usable by the queue jobs; fills `info`.
Status CheckTable(Connection& conn, const std::string& key, const std::string& table,
                  TableInfo* info) {
  auto read = ReadTableInfo(conn, "main", table);
  // Not a config problem: the database is corrupt, locked or unreadable (its code is kept,
  // so a corrupt database is reported as corrupt, a locked one is retried).
  if (!read.ok()) {
    return Status(read.status().code(),
                  key + ": cannot read the schema: " + read.status().message());
  }
  if (!read->has_value()) {
    return Status::Config(key + ": no table '" + table + "' in " + conn.path());
  }
  *info = std::move(**read);
  if (info->without_rowid) {
    return Status::Config(key + ": table '" + table +
                          "' is a WITHOUT ROWID table; the queue jobs need a rowid table");
  }
  if (info->rowid_name.empty()) {
    return Status::Config(key + ": table '" + table +
                          "' has columns named rowid, _rowid_ and oid: its rowid is unreachable");
  }
  return Status::Ok();
}

Status CheckColumn(const TableInfo& info, const std::string& key, const std::string& column) {
  if (column.empty()) return Status::Ok();
  if (info.FindColumn(column) == nullptr) {
    return Status::Config(key + ": table '" + info.name + "' has no column '" + column + "'");
  }
  return Status::Ok();
}

bool DirectoryExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// An existing archive table must hold every column of the source.
Status CheckArchiveTable(const std::string& key, const RetentionRule& rule,
                         const TableInfo& source) {
  if (!FileExists(rule.archive_to)) return Status::Ok();
  OpenOptions ro;
  ro.read_only = true;
  auto conn = Connection::Open(rule.archive_to, ro);
  if (!conn.ok()) {
    return Status::Config(key + ": cannot open the archive " + rule.archive_to + ": " +
                          conn.status().message());
  }
  auto info = ReadTableInfo(*conn, "main", source.name);
  if (!info.ok()) {
    return Status::Config(key + ": " + rule.archive_to +
                          " is not a readable SQLite database: " + info.status().message());
  }
  if (!info->has_value()) return Status::Ok();  // created on the first run
  for (const auto& c : source.columns) {
    if (c.hidden != 0) continue;
    if ((*info)->FindColumn(c.name) == nullptr) {
      return Status::Config(key + ": the archive table '" + source.name + "' in " +
                            rule.archive_to + " has no column '" + c.name +
                            "' (its schema differs from the source table)");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string KeepWhereLexicalProblem(const std::string& expr) {
  if (expr.find_first_not_of(" \t\r\n") == std::string::npos) return "is empty";
  if (expr.find(';') != std::string::npos) {
    return "must be a single SQL expression: ';' is not allowed";
  }
  int depth = 0;
  for (size_t i = 0; i < expr.size(); ++i) {
    char c = expr[i];
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
      char close = c == '[' ? ']' : c;
      size_t j = i + 1;
      while (true) {
        j = expr.find(close, j);
        if (j == std::string::npos) return "has an unterminated quote";
        if (close != ']' && j + 1 < expr.size() && expr[j + 1] == close) {
          j += 2;  // doubled quote inside the literal
          continue;
        }
        break;
      }
      i = j;
    } else if (c == '-' && i + 1 < expr.size() && expr[i + 1] == '-') {
      size_t nl = expr.find('\n', i);
      if (nl == std::string::npos) break;
      i = nl;
    } else if (c == '/' && i + 1 < expr.size() && expr[i + 1] == '*') {
      size_t end = expr.find("*/", i + 2);
      if (end == std::string::npos) return "has an unterminated comment";
      i = end + 1;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return "closes a parenthesis it did not open: not a single expression";
    }
  }
  if (depth != 0) return "has unbalanced parentheses";
  return "";
}

Status CheckLeaseRule(Connection& conn, const std::string& db_name, size_t index,
                      const LeaseRequeueRule& rule) {
  auto key = [&](const char* k) { return KeyPath(db_name, "lease_requeue", index, k); };
  TableInfo info;
  MAINTD_RETURN_IF_ERROR(CheckTable(conn, key("table"), rule.table, &info));
  MAINTD_RETURN_IF_ERROR(CheckColumn(info, key("status_column"), rule.status_column));
  MAINTD_RETURN_IF_ERROR(CheckColumn(info, key("expires_column"), rule.expires_column));
  MAINTD_RETURN_IF_ERROR(CheckColumn(info, key("heartbeat_column"), rule.heartbeat_column));
  MAINTD_RETURN_IF_ERROR(CheckColumn(info, key("owner_column"), rule.owner_column));
  MAINTD_RETURN_IF_ERROR(CheckColumn(info, key("attempts_column"), rule.attempts_column));
  if (rule.expires_column.empty() == rule.heartbeat_column.empty()) {
    return Status::Config(key("heartbeat_column") +
                          ": set exactly one of expires_column and heartbeat_column");
  }
  if (rule.batch < 1) return Status::Config(key("batch") + ": must be at least 1");
  if (rule.max_attempts > 0 && rule.attempts_column.empty()) {
    return Status::Config(key("max_attempts") + ": requires attempts_column");
  }
  const ColumnInfo* owner = info.FindColumn(rule.owner_column);
  if (owner != nullptr && owner->notnull && rule.owner_reset_value.kind == SqlValue::Kind::kNull) {
    return Status::Config(key("owner_reset_value") + ": null (the default), but column '" +
                          owner->name + "' of table '" + info.name +
                          "' is NOT NULL, so every requeue would fail: set the value a free "
                          "row has there, e.g. owner_reset_value: \"\"");
  }
  return Status::Ok();
}

Status CheckRetentionRule(Connection& conn, const std::string& db_name, size_t index,
                          const RetentionRule& rule) {
  auto key = [&](const char* k) { return KeyPath(db_name, "retention", index, k); };
  TableInfo info;
  MAINTD_RETURN_IF_ERROR(CheckTable(conn, key("table"), rule.table, &info));
  MAINTD_RETURN_IF_ERROR(CheckColumn(info, key("time_column"), rule.time_column));
  if (rule.batch < 1) return Status::Config(key("batch") + ": must be at least 1");
  if (!rule.keep_where.empty()) {
    std::string problem = KeepWhereLexicalProblem(rule.keep_where);
    if (!problem.empty()) return Status::Config(key("keep_where") + ": " + problem);
    // Newlines around the expression: a trailing "-- comment" cannot swallow the ")".
    std::string sql =
        "SELECT 1 FROM " + QuoteIdentifier(info.name) + " WHERE (\n" + rule.keep_where + "\n)";
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc =
        sqlite3_prepare_v2(conn.raw(), sql.c_str(), static_cast<int>(sql.size()), &stmt, &tail);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) {
      return Status::Config(key("keep_where") + ": does not compile as an expression over '" +
                            info.name + "': " + conn.ErrorMessage());
    }
    if (tail != nullptr && std::string(tail).find_first_not_of(" \t\r\n") != std::string::npos) {
      return Status::Config(key("keep_where") + ": must be a single SQL expression");
    }
  }
  if (rule.archive_after.has_value() != !rule.archive_to.empty()) {
    return Status::Config(key(rule.archive_to.empty() ? "archive_after" : "archive_to") +
                          ": archive_after and archive_to go together");
  }
  if (!rule.archive_to.empty()) {
    if (rule.archive_to.front() != '/') {
      return Status::Config(key("archive_to") + ": must be an absolute path");
    }
    if (*rule.archive_after > rule.delete_after) {
      return Status::Config(key("archive_after") +
                            ": must not be longer than delete_after (rows would be deleted "
                            "before they are archived)");
    }
    if (rule.archive_to == conn.path()) {
      return Status::Config(key("archive_to") + ": must be another file than the database");
    }
    std::string dir = DirName(rule.archive_to);
    if (!DirectoryExists(dir)) {
      return Status::Config(key("archive_to") + ": directory " + dir + " does not exist");
    }
    MAINTD_RETURN_IF_ERROR(CheckArchiveTable(key("archive_to"), rule, info));
  }
  return Status::Ok();
}

Status CheckRulesAgainstSchema(const ResolvedDatabase& db) {
  if (db.lease_requeue.empty() && db.retention.empty()) return Status::Ok();
  OpenOptions ro;
  ro.read_only = true;
  ro.busy_timeout = db.policy.busy_timeout;
  auto conn = Connection::Open(db.path, ro);
  if (!conn.ok()) return conn.status();
  for (size_t i = 0; i < db.lease_requeue.size(); ++i) {
    const LeaseRequeueRule& rule = db.lease_requeue[i];
    MAINTD_RETURN_IF_ERROR(CheckLeaseRule(*conn, db.name, i, rule));
    const std::string& column =
        rule.heartbeat_column.empty() ? rule.expires_column : rule.heartbeat_column;
    MAINTD_RETURN_IF_ERROR(CheckTimeUnit(*conn, KeyPath(db.name, "lease_requeue", i, "time_format"),
                                         rule.table, column, rule.time_format,
                                         RealClock::Instance().Now()));
  }
  for (size_t i = 0; i < db.retention.size(); ++i) {
    const RetentionRule& rule = db.retention[i];
    MAINTD_RETURN_IF_ERROR(CheckRetentionRule(*conn, db.name, i, rule));
    // Worse than for leases: a `unix_ms` rule on a column of seconds reads every row as
    // 1970 and would delete them all.
    MAINTD_RETURN_IF_ERROR(CheckTimeUnit(*conn, KeyPath(db.name, "retention", i, "time_format"),
                                         rule.table, rule.time_column, rule.time_format,
                                         RealClock::Instance().Now(), TimeColumnUse::kRowAge));
  }
  return Status::Ok();
}

}  // namespace maintd
