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
//
// An optional activity line ("activity <text>") says what the holder is doing right now
// (the runner's "running ..." line with the job's progress, lib/jobs/run_progress.h); it
// is the holder's alone: the next Acquire drops it, and a reader that finds the holder's
// pid dead ignores it.
//
// Thread-safety: WriteNote and WriteActivity may be called from any thread (an internal
// mutex serializes the rewrites). Rewrites write the new content before truncating, so a
// concurrent reader sees the old or new lines, or for one read a mix it must tolerate.

#include <sys/types.h>

#include <memory>
#include <mutex>
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
  // Replaces the activity line ("" removes it); the note is kept. Best effort, like
  // WriteNote.
  Status WriteActivity(const std::string& activity);

  // What a database's lock file says, read without taking the lock: the holder's (or last
  // holder's) pid (0 when unreadable), the note and the activity ("" when none).
  struct Content {
    pid_t pid = 0;
    std::string note;
    std::string activity;
  };
  static Content Read(const std::string& db_path, const std::string& lock_dir);
  // The state note of a database's lock file, read without taking the lock; "" when there
  // is none or the file cannot be read.
  static std::string ReadNote(const std::string& db_path, const std::string& lock_dir);
  // The note the file held when Acquire() took it (saves reading the file again).
  const std::string& note_at_acquire() const { return note_at_acquire_; }

 private:
  MaintainerLock(int fd, std::string path, std::string note)
      : fd_(fd), path_(std::move(path)), note_at_acquire_(note), note_(std::move(note)) {}
  Status Rewrite();  // with *mu_ held
  int fd_ = -1;
  std::string path_;
  std::string note_at_acquire_;  // immutable after Acquire()
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
  std::string note_;      // guarded by *mu_
  std::string activity_;  // guarded by *mu_
};

}  // namespace maintd
