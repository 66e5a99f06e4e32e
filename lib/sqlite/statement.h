#pragma once
// One prepared statement. Owned by the caller; must not outlive its Connection.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lib/core/status.h"

struct sqlite3_stmt;

namespace maintd {

class Connection;

class Statement {
 public:
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  // Bind by 1-based index. Values are always bound, never formatted into SQL.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& BindNull(int index);
  // First bind error, if any, is reported by the next Step().

  // One step: true when a row is available, false when done.
  Result<bool> Step();
  // Steps until SQLITE_DONE, ignoring rows (e.g. PRAGMA incremental_vacuum, which frees one
  // page per step). Returns the number of rows stepped over.
  Result<int64_t> StepUntilDone();
  Status Reset();

  int ColumnCount() const;
  std::string ColumnName(int i) const;
  bool IsNull(int i) const;
  int64_t Int(int i) const;
  double Double(int i) const;
  std::string Text(int i) const;

  sqlite3_stmt* raw() const { return stmt_.get(); }

 private:
  friend class Connection;
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const;
  };
  Statement(sqlite3_stmt* stmt, const Connection* conn) : stmt_(stmt), conn_(conn) {}

  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  const Connection* conn_;
  int bind_error_ = 0;
};

}  // namespace maintd
