#pragma once
// Helpers shared by the tests in tests/backup/.

#include <fcntl.h>
#include <signal.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "lib/backup/online_backup.h"
#include "lib/config/config.h"
#include "lib/sqlite/connection.h"
#include "tests/support/test_util.h"

namespace maintd::test {

// A database entry with the default policy, as the config resolver would make it.
inline ResolvedDatabase DbEntry(const std::string& path, const std::string& name = "app") {
  ResolvedDatabase db;
  db.name = name;
  db.path = path;
  return db;
}

// Overwrites page `page_no` (1-based) of a database file with junk. Call only when this
// process has no SQLite connection to the file.
inline void CorruptPage(const std::string& path, int64_t page_no, int64_t page_size = 4096) {
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::string junk(static_cast<size_t>(page_size), '\xAB');
  ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), (page_no - 1) * page_size),
            static_cast<ssize_t>(junk.size()));
  ::close(fd);
}

// Backs `db` up into `dir` under the name "app" with the default options (quick_check).
inline Result<BackupResult> BackupInto(const std::string& db, const std::string& dir) {
  auto conn = Connection::Open(db);
  if (!conn.ok()) return conn.status();
  BackupOptions options;
  options.dir = dir;
  options.name = "app";
  return TakeBackup(*conn, options, RealClock::Instance());
}

// A writer killed with SIGKILL after its first commit: committed rows (one in writer_rows)
// left in db's -wal only, and no process holding the database.
inline void LeaveCommittedWal(const std::string& db, const std::string& work_dir) {
  std::string committed = work_dir + "/committed.txt";
  ChildProcess writer({WriterBinary(), db, "--interval-ms", "600000", "--committed", committed});
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(committed).empty(); }, std::chrono::seconds(20)));
  writer.Signal(SIGKILL);
  writer.Wait(std::chrono::seconds(10));
}

inline void TruncateFile(const std::string& path, int64_t size) {
  ASSERT_EQ(::truncate(path.c_str(), size), 0);
}

// The ids in a writer's --committed file.
inline std::vector<int64_t> CommittedIds(const std::string& file) {
  std::vector<int64_t> ids;
  std::istringstream in(ReadFile(file));
  int64_t id;
  while (in >> id) ids.push_back(id);
  return ids;
}

}  // namespace maintd::test
