#pragma once
// Is a database in use by another process? Used by `restore` (CONTRACT.md section 6), which
// must not swap the file under an application, even one with an idle connection.
//
// Two independent looks, because each can miss what the other sees:
//  - /proc/<pid>/fd of every process we may read: a descriptor on the database, its -wal or
//    its -shm. Sees idle rollback-mode connections (which hold no lock); cannot see other
//    users' processes unless we run as root (those are counted in `unreadable`).
//  - a lock probe (F_OFD_GETLK, which also reports classic POSIX locks) on the database and
//    its -shm: an idle WAL connection keeps a shared lock on the database and on the -shm's
//    dead-man-switch byte. Sees every user's processes, including other containers sharing
//    the volume.
//
// The probe opens and closes the files with plain calls, which drops this process's POSIX
// locks on them: call it only when this process has no SQLite connection to the database
// (true in `restore`, which has none to it when it asks).

#include <sys/types.h>

#include <string>
#include <vector>

namespace maintd {

struct DatabaseUser {
  pid_t pid = 0;
  std::string command;  // /proc/<pid>/comm
  std::string file;     // which of db, -wal, -shm it has open
};

struct InUseReport {
  std::vector<DatabaseUser> users;        // from /proc, this process excluded
  std::vector<std::string> locked_files;  // files someone holds a lock on
  int unreadable = 0;                     // processes whose fds we could not read
  bool in_use() const { return !users.empty() || !locked_files.empty(); }
  // "pid 1234 (python3) has app.db-shm open; app.db is locked by another process"
  std::string Describe() const;
};

InUseReport FindDatabaseUsers(const std::string& db_path);

}  // namespace maintd
