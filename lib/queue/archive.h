#pragma once
// The archive side of a retention rule (CONTRACT.md section 4: "archive (copy, verify count,
// commit) then delete").
//
// The archive database holds a table of the same name and schema as the source table
// (created from the source's CREATE TABLE statement when missing). Rows keep their source
// rowid, which is the archive table's primary key, so copying a row twice is a no-op
// (INSERT OR IGNORE): a run killed anywhere and started again neither loses nor duplicates.
//
// Every archive write is its own BEGIN IMMEDIATE transaction on a connection of its own to
// the archive file, with the source database attached READ-ONLY (so that transaction never
// takes the source's write lock: application writers do not wait for archive copies). It is
// committed (synchronous=FULL) before the caller deletes anything from the source.
//
// Not thread-safe; one job run at a time.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/queue/table_info.h"
#include "lib/sqlite/connection.h"

namespace maintd {

// "file:/a%20b.db?mode=ro" for ATTACH (connections are opened with SQLITE_OPEN_URI).
std::string ReadOnlyUri(const std::string& path);

// ATTACHes `path` read-only to `conn` as `schema_name` and checks that it really is
// read-only and points to that file; DETACHes in the destructor (errors ignored there).
class ReadOnlyAttachment {
 public:
  static Result<ReadOnlyAttachment> Attach(Connection& conn, const std::string& path,
                                           const std::string& schema_name);
  ReadOnlyAttachment(ReadOnlyAttachment&& o) noexcept : conn_(o.conn_), name_(o.name_) {
    o.conn_ = nullptr;
  }
  ReadOnlyAttachment& operator=(ReadOnlyAttachment&&) = delete;
  ~ReadOnlyAttachment();
  const std::string& name() const { return name_; }

 private:
  ReadOnlyAttachment(Connection* conn, std::string name) : conn_(conn), name_(std::move(name)) {}
  Connection* conn_;
  std::string name_;
};

// SQL: true when schema `archive_schema` holds an identical copy (same rowid, same values and
// types in every stored column, compared byte for byte) of the row of `source_qualified`
// ("main"."events") that the enclosing statement is looking at.
std::string IdenticalCopyExistsSql(const TableInfo& table, const std::string& source_qualified,
                                   const std::string& archive_schema);

struct CopyResult {
  int64_t copied = 0;     // rows newly inserted into the archive
  int64_t verified = 0;   // rows of the batch with an identical copy in the archive now
  int64_t present = 0;    // rows of the batch still present in the source
  int64_t conflicts = 0;  // present - verified: rowid taken in the archive by a different row
};

class Archive {
 public:
  // Opens (creating) the archive database at `path`, attaches `source_path` read-only, and
  // creates the archive table from `source.create_sql` when missing. Refused (Config) when
  // an existing archive table lacks a column of the source.
  static Result<Archive> Open(const std::string& path, const std::string& source_path,
                              const TableInfo& source, Millis busy_timeout);

  // Copies the source rows with these rowids (those still present) in one transaction,
  // then counts, inside it, the rows that now have an identical copy, and commits.
  Result<CopyResult> CopyBatch(const std::vector<int64_t>& rowids);

  Connection& connection() { return *conn_; }

 private:
  Archive(Connection conn, TableInfo source)
      : conn_(std::make_unique<Connection>(std::move(conn))), source_(std::move(source)) {}
  // On the heap: the attachment keeps a pointer to it across moves of the Archive.
  std::unique_ptr<Connection> conn_;
  TableInfo source_;
  std::unique_ptr<ReadOnlyAttachment> attachment_;  // destroyed (DETACH) before conn_
};

// "[1,2,3]" for binding to json_each().
std::string RowidsJson(const std::vector<int64_t>& rowids);

// Names of the stored (insertable) columns, plus the rowid name first when the table has no
// INTEGER PRIMARY KEY alias, so a copy keeps the rowid.
std::vector<std::string> CopyColumns(const TableInfo& table);

}  // namespace maintd
