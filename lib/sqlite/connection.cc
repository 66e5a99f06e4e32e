#include "lib/sqlite/connection.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>

#include "lib/sqlite/open_files.h"
#include "lib/sqlite/statement.h"

namespace maintd {

Status StatusFromSqlite(int rc, std::string_view what) {
  std::string msg(what);
  int primary = rc & 0xff;
  switch (primary) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return Status::Ok();
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Status::Busy(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Status::Corrupt(msg);
    case SQLITE_INTERRUPT: return Status::Interrupted(msg);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: return Status::IoError(msg);
    default: return Status::Failed(msg);
  }
}

void Connection::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

namespace {

// "file:<path>?immutable=1", the path percent-encoded where a URI needs it (uri.html); an
// absolute path gets an empty authority ("file:///data/x.db"), so "//x" stays a path.
std::string ImmutableUri(const std::string& path) {
  std::string uri = !path.empty() && path[0] == '/' ? "file://" : "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      uri += buf;
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

}  // namespace

Result<Connection> Connection::Open(const std::string& path, const OpenOptions& options) {
  const bool read_only = options.read_only || options.immutable;
  if (!options.create || read_only) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return Status::NotFound("database " + path + " does not exist");
    }
  }
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  flags |= read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (options.create && !read_only) flags |= SQLITE_OPEN_CREATE;
  const std::string name = options.immutable ? ImmutableUri(path) : path;
  sqlite3* raw = nullptr;
  int rc = SQLITE_OK;
  // Registered while open (open_files.h): no plain read of this file happens beside it.
  OpenFileRegistration registration = OpenRegistered(path, [&] {
    rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
    return rc == SQLITE_OK;
  });
  Connection conn(raw, path);
  conn.registration_ = std::move(registration);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return StatusFromSqlite(rc, "cannot open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(raw, 1);
  conn.SetBusyTimeout(options.busy_timeout);
  return conn;
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return StatusFromSqlite(rc, msg);
  }
  return Status::Ok();
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt,
                              nullptr);
  if (rc != SQLITE_OK) return Error(rc, "prepare");
  return Statement(stmt, this);
}

Result<int64_t> Connection::QueryInt(std::string_view sql) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("no row for: " + std::string(sql));
  return stmt->Int(0);
}

Result<std::string> Connection::QueryText(std::string_view sql) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("no row for: " + std::string(sql));
  return stmt->Text(0);
}

void Connection::SetBusyTimeout(std::chrono::milliseconds timeout) {
  busy_timeout_ = timeout;
  sqlite3_busy_timeout(db_.get(), static_cast<int>(timeout.count()));
}

void Connection::Interrupt() { sqlite3_interrupt(db_.get()); }

int64_t Connection::Changes() const { return sqlite3_changes64(db_.get()); }

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

std::string Connection::ErrorMessage() const { return sqlite3_errmsg(db_.get()); }

Status Connection::Error(int rc, std::string_view what) const {
  return StatusFromSqlite(rc, std::string(what) + ": " + ErrorMessage());
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

bool TurnOffSqliteMemoryStatistics() {
  return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
}

int SqliteVersionNumber() { return sqlite3_libversion_number(); }

}  // namespace maintd
