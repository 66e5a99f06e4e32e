#pragma once
// One maintainer per database (CONTRACT.md section 4): an exclusive flock(2) on
// `<db>-maintd.lock` beside the database (or `<lock_dir>/<escaped db path>.lock`).
// The lock file is a separate file, so opening and closing it never touches SQLite's POSIX
// locks on the database. The lock is released when the object is destroyed or the process
// dies (the kernel drops flocks), which is what makes a `running` journal row an orphan.
//
// The file's first line is the holder's pid; an optional second line is a state note the
// holder keeps there for others to read without the lock (the integrity gate records a
// database found corrupt there: nothing may be written into the database itself then, and
// `status` reads it). The note survives the release and the next Acquire.

#include <string>

#include "lib/core/status.h"

namespace maintd {

class MaintainerLock {
 public:
  // Non-blocking. LockHeld (exit 75) when another process holds it, naming the lock file
  // and, when readable, the holder's pid. IoError when the file cannot be created.
  static Result<MaintainerLock> Acquire(const std::string& db_path, const std::string& lock_dir);

  // The lock file path for a database.
  static std::string LockPathFor(const std::string& db_path, const std::string& lock_dir);

  MaintainerLock(MaintainerLock&& other) noexcept;
  MaintainerLock& operator=(MaintainerLock&& other) noexcept;
  MaintainerLock(const MaintainerLock&) = delete;
  MaintainerLock& operator=(const MaintainerLock&) = delete;
  ~MaintainerLock();

  const std::string& path() const { return path_; }

  // Replaces the state note ("" removes it). Best effort: IoError when it cannot be written.
  Status WriteNote(const std::string& note);
  // The state note of a database's lock file, read without taking the lock; "" when there
  // is none or the file cannot be read.
  static std::string ReadNote(const std::string& db_path, const std::string& lock_dir);
  // The note the file held when Acquire() took it (saves reading the file again).
  const std::string& note_at_acquire() const { return note_at_acquire_; }

 private:
  MaintainerLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
  std::string note_at_acquire_;
};

}  // namespace maintd
