#pragma once
// The process-wide list of database files this process has an SQLite connection open on:
// the one door for the POSIX-lock rule of SQLITE_FACTS.md ("closing a descriptor of ours
// on a database file drops every POSIX lock this process holds on it, including the locks
// of our own open connections").
//
// Every Connection registers its main file (device + inode) while it is open
// (Connection::Open holds the registry's mutex while it opens the file, then registers).
// ReadIfNoConnectionOpen() is the only way this project reads a database file with plain
// file calls: under the same mutex, it runs the read only when no connection of ours is
// registered on that file, so no connection can be open, or open meanwhile, while our
// descriptor exists.
//
// Thread-safety: every function is thread-safe (one mutex, held for the duration of an
// open or of a read).

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>

namespace maintd {

// The identity of a file: what two paths (symlinks, hard links) of one file share.
struct FileId {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator<(const FileId& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
};

// A registration of one open connection; unregisters when destroyed. Move-only; an empty
// one (default, or moved from) does nothing.
class OpenFileRegistration {
 public:
  OpenFileRegistration() = default;
  explicit OpenFileRegistration(FileId id) : id_(id), active_(true) {}
  OpenFileRegistration(OpenFileRegistration&& o) noexcept;
  OpenFileRegistration& operator=(OpenFileRegistration&& o) noexcept;
  OpenFileRegistration(const OpenFileRegistration&) = delete;
  OpenFileRegistration& operator=(const OpenFileRegistration&) = delete;
  ~OpenFileRegistration();

 private:
  void Release();
  FileId id_;
  bool active_ = false;
};

// Runs `open` (which opens an SQLite connection on `path`; returns false when it failed)
// with the registry's mutex held, then registers the file `path` names. Empty registration
// when `open` failed or the file cannot be stat'ed. Used by Connection::Open only.
OpenFileRegistration OpenRegistered(const std::string& path, const std::function<bool()>& open);

// Runs `read(st)` (st: stat of `path`) with the mutex held, only when no connection of this
// process is registered on the file `path` names: `read` may open, read and close the file
// with plain file calls. Returns false (and does not call `read`) when a connection of ours
// is open on it or `path` cannot be stat'ed.
bool ReadIfNoConnectionOpen(const std::string& path,
                            const std::function<void(const struct stat&)>& read);

// For tests and diagnostics: connections opened on the file `path` names since the process
// started (counted by file identity; 0 when it cannot be stat'ed), and open now.
int64_t ConnectionsOpenedOn(const std::string& path);
int64_t ConnectionsOpenOn(const std::string& path);

}  // namespace maintd
