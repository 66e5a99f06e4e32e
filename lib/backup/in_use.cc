#include "lib/backup/in_use.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace maintd {
namespace {

struct Target {
  std::string path;
  dev_t dev;
  ino_t ino;
};

bool IsNumber(const char* s) {
  if (*s == '\0') return false;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9') return false;
  }
  return true;
}

std::string Comm(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string line;
  std::getline(in, line);
  return line;
}

// True when another process holds any lock on `path` that would conflict with a write lock
// over the whole file.
bool Locked(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;  // to the end and beyond: SQLite's lock bytes sit past small files' ends
  fl.l_pid = 0;
  bool locked = false;
  if (::fcntl(fd, F_OFD_GETLK, &fl) == 0) {
    locked = fl.l_type != F_UNLCK;
  } else {
    // Kernels without OFD locks: classic F_GETLK (we hold no lock on it ourselves).
    struct flock pl {};
    pl.l_type = F_WRLCK;
    pl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_GETLK, &pl) == 0) locked = pl.l_type != F_UNLCK;
  }
  ::close(fd);
  return locked;
}

}  // namespace

std::string InUseReport::Describe() const {
  std::string out;
  for (const auto& u : users) {
    if (!out.empty()) out += "; ";
    out += "pid " + std::to_string(u.pid) + " (" + u.command + ") has " + u.file + " open";
  }
  for (const auto& f : locked_files) {
    if (!out.empty()) out += "; ";
    out += f + " is locked by another process";
  }
  if (out.empty()) out = "not in use";
  return out;
}

InUseReport FindDatabaseUsers(const std::string& db_path) {
  InUseReport report;
  std::vector<Target> targets;
  for (const std::string& p : {db_path, db_path + "-wal", db_path + "-shm"}) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) targets.push_back({p, st.st_dev, st.st_ino});
  }
  if (targets.empty()) return report;

  const pid_t self = ::getpid();
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* e = ::readdir(proc)) {
      if (!IsNumber(e->d_name)) continue;
      pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
      if (pid == self) continue;
      std::string fd_dir = std::string("/proc/") + e->d_name + "/fd";
      DIR* fds = ::opendir(fd_dir.c_str());
      if (fds == nullptr) {
        if (errno == EACCES || errno == EPERM) ++report.unreadable;
        continue;
      }
      std::vector<std::string> seen;
      while (dirent* f = ::readdir(fds)) {
        if (!IsNumber(f->d_name)) continue;
        struct stat st {};
        if (::stat((fd_dir + "/" + f->d_name).c_str(), &st) != 0) continue;
        for (const Target& t : targets) {
          if (st.st_dev != t.dev || st.st_ino != t.ino) continue;
          bool dup = false;
          for (const auto& s : seen) dup = dup || s == t.path;
          if (!dup) {
            seen.push_back(t.path);
            report.users.push_back({pid, Comm(pid), t.path});
          }
        }
      }
      ::closedir(fds);
    }
    ::closedir(proc);
  }
  for (const std::string& p : {db_path, db_path + "-shm"}) {
    if (Locked(p)) report.locked_files.push_back(p);
  }
  return report;
}

}  // namespace maintd
