#pragma once
// The backup's temp file (`.<name>-<stamp>.db.tmp`, catalog.h), private until renamed.
//
// Handles, all on the one path: our own descriptor, which created the file (O_EXCL, 0600)
// and is used for write-back pacing (sync_file_range) and the final fsync; for the file
// copy, a handle of SQLite's default VFS that the data is written through (so a test VFS
// sees those writes and can fail them, like the page copy's); for the page copy, an SQLite
// connection (no journal, synchronous=OFF). No SQLite lock is ever taken through the VFS
// handle and the connection is closed first, so closing our descriptor cannot drop a lock.
// The file is removed on destruction unless Keep() was called. Not thread-safe.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lib/core/status.h"

namespace maintd {

class TempBackup {
 public:
  explicit TempBackup(std::string path);
  ~TempBackup();
  TempBackup(const TempBackup&) = delete;
  TempBackup& operator=(const TempBackup&) = delete;

  // Creates the file; fails when it exists.
  Status Create();
  // File copy: writes through the VFS handle (opened on first use).
  Status Write(const void* data, int64_t n, int64_t offset);
  // Page copy: opens the SQLite connection that db() returns.
  Status OpenDb();
  sqlite3* db() const { return db_; }
  // Starts write-back of what was written since the last call and waits for the previous
  // call's to finish: at most about two calls' worth of dirty pages are ever in flight.
  void WriteBack();
  // Closes the SQLite handles, fsyncs and closes the file.
  Status SyncAndClose();
  const std::string& path() const { return path_; }
  void Keep() { keep_ = true; }

 private:
  Status CloseSqliteHandles();

  std::string path_;
  std::vector<char> vfs_name_;  // path_ and the zeros SQLite's VFS expects after a name
  int fd_ = -1;
  sqlite3_file* vfs_file_ = nullptr;
  sqlite3* db_ = nullptr;
  bool keep_ = false;
  bool sync_file_range_ok_ = true;
};

}  // namespace maintd
