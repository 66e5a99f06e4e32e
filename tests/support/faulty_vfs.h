#pragma once
// A test SQLite VFS that injects disk faults into the real file system, in-process.
//
// FaultyVfs::Install() registers a VFS named "faulty" that wraps the default "unix" VFS and
// makes it the process's default, so every connection opened afterwards by this process
// (the library's jobs, the journal, the test's own helpers) goes through it. Unarmed it only
// forwards. Armed (ScopedFault / Arm), it counts the bytes written (xWrite) and the syncs
// (xSync) of files whose path contains FaultPlan::path_filter and, once the plan's limit is
// reached, fails every later write that extends a file with SQLITE_FULL (disk full: new
// blocks are refused, rewrites of existing bytes succeed) or every later write with
// SQLITE_IOERR_WRITE (a failing device), or
// the Nth and every later sync with SQLITE_IOERR_FSYNC, until disarmed. Only SQLite's own
// I/O goes through a VFS: plain file calls (rename, fsync of a directory, sync_file_range)
// are not affected.
//
// A VFS is per process: the tests call the library's jobs in-process (MaintainedDatabase,
// Job::Run). Thread-safe: the counters are atomics and the plan is guarded by a mutex.

#include <cstdint>
#include <string>

namespace maintd::test {

enum class FaultKind {
  kNone,
  kDiskFull,    // xWrite extending the file -> SQLITE_FULL (rewrites inside it succeed)
  kWriteError,  // xWrite -> SQLITE_IOERR_WRITE (every write: a failing device)
  kSyncError,   // xSync -> SQLITE_IOERR_FSYNC
};

struct FaultPlan {
  FaultKind kind = FaultKind::kNone;
  // kDiskFull / kWriteError: the write that would take the bytes written since Arm() past
  // this many fails, and every later one. 0 = the first write fails.
  int64_t after_bytes = 0;
  // kSyncError: the Nth sync since Arm() (1-based) fails, and every later one.
  int64_t nth_sync = 1;
  // Only files whose path contains this (e.g. "/app.db" also matches "/app.db-wal");
  // "" = every file.
  std::string path_filter;
};

class FaultyVfs {
 public:
  // Registers the VFS as the process default (idempotent). Returns false when SQLite
  // refused (no "unix" VFS).
  static bool Install();
  static void Arm(const FaultPlan& plan);
  static void Disarm();
  // Counters since the last Arm(): bytes written and syncs of matching files, and how many
  // calls were failed on purpose.
  static int64_t bytes_written();
  static int64_t syncs();
  static int64_t faults_injected();
};

// Arms `plan` for the scope; disarms in the destructor.
class ScopedFault {
 public:
  explicit ScopedFault(const FaultPlan& plan) { FaultyVfs::Arm(plan); }
  ~ScopedFault() { FaultyVfs::Disarm(); }
  ScopedFault(const ScopedFault&) = delete;
  ScopedFault& operator=(const ScopedFault&) = delete;
};

const char* ToString(FaultKind kind);

}  // namespace maintd::test
