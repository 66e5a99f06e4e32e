#pragma once
// Finds, batch by batch, the rowids of a table's rows whose time column is before a cutoff
// and that keep_where does not protect. A read-only query, run outside any write
// transaction, so in WAL mode application writers never wait for it; whoever writes the
// batch re-checks the conditions in its own statement.
//
// Two strategies, picked once per scan:
//  - an index leads with the time column and the format is numeric: walk that index in
//    (time, rowid) order with a keyset cursor (INDEXED BY), so each batch reads only its
//    own rows and rows kept by keep_where are passed over once, not once per batch;
//  - otherwise: walk the table in rowid order (NOT INDEXED) from a rowid cursor. Each row is
//    read at most once per scan, whatever the order of the times.
// Either way a row is returned at most once per scan, so rows a batch could not delete
// (changed meanwhile, no archive copy) never make the scan loop.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/core/status.h"
#include "lib/queue/table_info.h"
#include "lib/sqlite/connection.h"

namespace maintd {

// "((\n<keep_where>\n) IS NOT TRUE)": true for rows keep_where does not protect (false or
// NULL), "1" when keep_where is empty. The newlines keep a trailing "-- comment" from
// swallowing the closing parenthesis.
std::string NotKeptSql(const std::string& keep_where);

class RowScanner {
 public:
  // `extra_condition`: more SQL ANDed to the filter ("" for none), evaluated against
  // main.<table>. Binds ?1 = cutoff (see time_expr.h), ?2 = limit, ?3/?4 = cursor.
  static Result<RowScanner> Create(Connection& conn, const TableInfo& table,
                                   const std::string& time_column, TimeFormat format,
                                   const std::string& keep_where, SystemTime cutoff,
                                   const std::string& extra_condition);

  // The next at most `limit` rowids; empty when the scan is complete.
  Result<std::vector<int64_t>> Next(int64_t limit);

  bool uses_index() const { return !index_.empty(); }

 private:
  RowScanner() = default;

  Connection* conn_ = nullptr;
  TimeFormat format_ = TimeFormat::kUnix;
  SystemTime cutoff_;
  std::string index_;      // "" = rowid walk
  std::string first_sql_;  // without cursor
  std::string next_sql_;   // with cursor
  bool started_ = false;
  bool done_ = false;
  int64_t last_rowid_ = 0;
  bool last_time_is_int_ = true;
  int64_t last_time_int_ = 0;
  double last_time_real_ = 0;
};

}  // namespace maintd
