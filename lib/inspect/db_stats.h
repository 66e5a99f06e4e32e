#pragma once
// Cheap facts about a database: header values (O(1) pragmas) and file-system facts read
// with stat/statvfs/statfs on paths. Never opens the database file with plain file calls
// (that would drop SQLite's POSIX locks in this process: SQLITE_FACTS.md).

#include <cstdint>
#include <string>

#include "lib/core/status.h"
#include "lib/sqlite/connection.h"

namespace maintd {

struct DbStats {
  int64_t page_size = 0;
  int64_t page_count = 0;
  int64_t freelist_count = 0;
  std::string journal_mode;  // "wal", "delete", ...
  int64_t auto_vacuum = 0;   // 0 none, 1 full, 2 incremental
  int64_t file_size = 0;     // bytes of the main file (stat)
  int64_t wal_size = 0;      // bytes of <db>-wal, 0 when absent
  bool litestream = false;   // a _litestream_seq table exists: Litestream owns checkpoints

  double free_ratio() const {
    return page_count > 0 ? static_cast<double>(freelist_count) / page_count : 0.0;
  }
};

const char* AutoVacuumName(int64_t mode);  // "none" | "full" | "incremental"

// Reads the header pragmas through `conn` and sizes through stat.
Result<DbStats> ReadDbStats(Connection& conn);

// Size of a file in bytes, 0 when it does not exist.
int64_t FileSize(const std::string& path);
bool FileExists(const std::string& path);

struct DiskSpace {
  int64_t free_bytes = 0;   // available to unprivileged users (f_bavail)
  int64_t total_bytes = 0;
  double free_percent() const {
    return total_bytes > 0 ? 100.0 * static_cast<double>(free_bytes) / total_bytes : 0.0;
  }
};
// statvfs of the directory containing `path` (or `path` itself if it is a directory).
Result<DiskSpace> ReadDiskSpace(const std::string& path);

struct FilesystemInfo {
  std::string type;      // "ext4", "nfs", "fuse.sshfs", ... or "0x1234" when unknown
  bool network = false;  // NFS, SMB, CIFS, Ceph, 9P, AFS, or a network FUSE
};
Result<FilesystemInfo> ReadFilesystem(const std::string& path);

// The directory SQLite uses for temp files (SQLITE_TMPDIR, TMPDIR, /var/tmp, /usr/tmp, /tmp).
std::string SqliteTempDir();

std::string DirName(const std::string& path);
std::string FileStem(const std::string& path);  // "/data/queue.db" -> "queue"

}  // namespace maintd
