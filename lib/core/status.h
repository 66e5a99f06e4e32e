#pragma once
// One error type for the whole project (after leveldb's Status). No exceptions cross the
// library's API: functions that can fail return Status or Result<T>.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace maintd {

enum class StatusCode {
  kOk = 0,
  kBusy,             // SQLITE_BUSY/LOCKED past busy_timeout: retry later, never fatal
  kLockHeld,         // another maintainer holds the database's maintd lock (exit 75)
  kCorrupt,          // SQLITE_CORRUPT/NOTADB or a failed integrity check
  kInterrupted,      // sqlite3_interrupt (shutdown deadline, abort)
  kIoError,          // SQLITE_IOERR/FULL, file system errors
  kNotFound,         // file, table, column, backup missing
  kInvalidArgument,  // bad usage of a command (exit 2)
  kConfig,           // configuration error (exit 78)
  kRefused,          // a safety rule refused the operation (disk space, Litestream, in use)
  kFailed,           // anything else
};

const char* StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status Busy(std::string m) { return {StatusCode::kBusy, std::move(m)}; }
  static Status LockHeld(std::string m) { return {StatusCode::kLockHeld, std::move(m)}; }
  static Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
  static Status Interrupted(std::string m) { return {StatusCode::kInterrupted, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status Config(std::string m) { return {StatusCode::kConfig, std::move(m)}; }
  static Status Refused(std::string m) { return {StatusCode::kRefused, std::move(m)}; }
  static Status Failed(std::string m) { return {StatusCode::kFailed, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  bool busy() const { return code_ == StatusCode::kBusy; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "busy: database is locked" style text for logs.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Exit code of the command line for a status (CONTRACT.md section 2).
int ExitCodeFor(const Status& status);

// Either a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(data_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace maintd

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define MAINTD_RETURN_IF_ERROR(expr)             \
  do {                                            \
    ::maintd::Status maintd_status_ = (expr);     \
    if (!maintd_status_.ok()) return maintd_status_; \
  } while (0)
