#include "lib/sqlite/statement.h"

#include <sqlite3.h>

#include "lib/sqlite/connection.h"

namespace maintd {

void Statement::Finalizer::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_.get(), index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_.get(), index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                             SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_.get(), index);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_ != 0) return conn_->Error(bind_error_, "bind");
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->Error(rc, "step");
}

Result<int64_t> Statement::StepUntilDone() {
  int64_t rows = 0;
  while (true) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return rows;
    ++rows;
  }
}

Status Statement::Reset() {
  int rc = sqlite3_reset(stmt_.get());
  if (rc != SQLITE_OK) return conn_->Error(rc, "reset");
  return Status::Ok();
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_.get()); }
std::string Statement::ColumnName(int i) const {
  const char* n = sqlite3_column_name(stmt_.get(), i);
  return n ? n : "";
}
bool Statement::IsNull(int i) const {
  return sqlite3_column_type(stmt_.get(), i) == SQLITE_NULL;
}
int64_t Statement::Int(int i) const { return sqlite3_column_int64(stmt_.get(), i); }
double Statement::Double(int i) const { return sqlite3_column_double(stmt_.get(), i); }
std::string Statement::Text(int i) const {
  const unsigned char* t = sqlite3_column_text(stmt_.get(), i);
  if (t == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(t),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), i)));
}

}  // namespace maintd
