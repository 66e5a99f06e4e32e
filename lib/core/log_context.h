#pragma once
// The database and job a thread works for, as structured fields of its log lines: the JSON
// log format (daemon/logging.cc) writes them as "db" and "job" beside "msg".
//
// Threads: thread-local. Whoever runs a job on a thread sets it for the run with
// ScopedLogContext (the scheduler's workers, the one-shot commands); spdlog formats a line
// on the thread that logs it, so the formatter reads the context of the line's own thread.
// Work handed to another thread does not carry it along.

#include <string>

namespace maintd {

struct LogContext {
  std::string db;   // the database's name ("" = none)
  std::string job;  // the job's name, as in the journal's check_type ("" = none)
};

// This thread's context (empty fields when none is set).
const LogContext& CurrentLogContext();

// Sets this thread's context to {db, job} while alive; restores the previous one when
// destroyed (so scopes nest: a job inside a database scope).
class ScopedLogContext {
 public:
  explicit ScopedLogContext(std::string db, std::string job = "");
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  LogContext previous_;
};

}  // namespace maintd
