#pragma once
// RAII over one sqlite3* (after SQLiteCpp). A Connection is used by one thread at a time;
// only Interrupt() may be called from another thread while it is in use.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "lib/core/status.h"
#include "lib/sqlite/open_files.h"

struct sqlite3;

namespace maintd {

class Statement;

struct OpenOptions {
  bool read_only = false;
  bool create = false;  // create the file when missing (only with !read_only)
  // Read-only with SQLite's `immutable=1`: no locks, no -wal/-shm, only the main file is
  // read. Correct only while nothing writes the database (its WAL empty); the one user,
  // lib/inspect/resting_database.h, checks that before and after. Implies read_only.
  bool immutable = false;
  std::chrono::milliseconds busy_timeout{5000};
};

// Maps an SQLite result code and message to our Status (BUSY/LOCKED -> kBusy,
// CORRUPT/NOTADB -> kCorrupt, INTERRUPT -> kInterrupted, IOERR/FULL/CANTOPEN -> kIoError).
Status StatusFromSqlite(int rc, std::string_view what);

class Connection {
 public:
  // Opens `path`. Fails with NotFound when the file does not exist and !create.
  static Result<Connection> Open(const std::string& path, const OpenOptions& options = {});

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection() = default;  // sqlite3_close_v2 via the deleter; never throws

  // Runs one or more statements without results (sqlite3_exec).
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);

  // First column of the first row, as integer / text. NotFound when there is no row.
  Result<int64_t> QueryInt(std::string_view sql);
  Result<std::string> QueryText(std::string_view sql);

  void SetBusyTimeout(std::chrono::milliseconds timeout);
  std::chrono::milliseconds busy_timeout() const { return busy_timeout_; }

  // Thread-safe: makes the statement running on this connection fail with SQLITE_INTERRUPT.
  void Interrupt();

  int64_t Changes() const;
  bool InTransaction() const;  // !autocommit
  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_.get(); }
  // Last error message of this connection.
  std::string ErrorMessage() const;
  // Status for `rc` with this connection's error message, prefixed by `what`.
  Status Error(int rc, std::string_view what) const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  // Declared before db_, so released after the connection is closed (open_files.h).
  OpenFileRegistration registration_;
  std::unique_ptr<sqlite3, Closer> db_;
  std::string path_;
  std::chrono::milliseconds busy_timeout_{0};
};

// Quotes an SQL identifier with double quotes, doubling inner quotes.
std::string QuoteIdentifier(std::string_view name);
// Quotes an SQL string literal with single quotes (only for places that cannot bind, such
// as VACUUM INTO's file name, which is still bound where SQLite allows it).
std::string QuoteLiteral(std::string_view text);

// Switches off SQLite's process-wide memory statistics (SQLITE_CONFIG_MEMSTATUS), so an
// allocation no longer takes a global mutex: for a process that opens thousands of short
// connections from several threads (`status`). Only before SQLite is initialized (the
// first connection of the process): returns false, changing nothing, after that.
// sqlite3_memory_used() then reports 0. Not thread-safe: call before starting threads.
bool TurnOffSqliteMemoryStatistics();

// The linked SQLite version as a number, e.g. 3040001.
int SqliteVersionNumber();

}  // namespace maintd
