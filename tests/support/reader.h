#pragma once
// A separate process holding a read transaction (tools/test_reader.cc): the application
// reader that pins a WAL, for the WAL pin tests.

#include <sys/types.h>

#include <chrono>
#include <string>

#include "tests/support/test_util.h"

namespace maintd::test {

std::string ReaderBinary();

class Reader {
 public:
  // Starts maintd-test-reader on `db`; its files go to `work_dir`.
  Reader(const std::string& db, const std::string& work_dir, bool extra_connection = false);
  pid_t pid() const { return process_.pid(); }
  // Waits until its read transaction is open.
  bool WaitReading(std::chrono::milliseconds timeout);
  // Ends the read transaction (COMMIT) and waits until it has; the process stays, idle.
  bool Release(std::chrono::milliseconds timeout);

 private:
  static std::string NextName(const std::string& work_dir);
  std::string base_;
  ChildProcess process_;
};

}  // namespace maintd::test
