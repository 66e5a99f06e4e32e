#include "lib/core/maintainer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace maintd {

std::string MaintainerLock::LockPathFor(const std::string& db_path, const std::string& lock_dir) {
  if (lock_dir.empty()) return db_path + "-maintd.lock";
  std::string escaped;
  for (char c : db_path) escaped += (c == '/') ? '_' : c;
  return lock_dir + "/" + escaped + "-maintd.lock";
}

Result<MaintainerLock> MaintainerLock::Acquire(const std::string& db_path,
                                               const std::string& lock_dir) {
  std::string path = LockPathFor(db_path, lock_dir);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IoError("cannot create lock file " + path + ": " + std::strerror(errno) +
                           (lock_dir.empty() ? " (set lock_dir for read-only database dirs)"
                                             : ""));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {0};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    if (err == EWOULDBLOCK) {
      return Status::LockHeld("another maintainer holds " + path +
                              (holder.empty() ? "" : " (pid " + holder + ")") +
                              "; only one sqlite-maintd may maintain a database at a time");
    }
    return Status::IoError("flock " + path + ": " + std::strerror(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return MaintainerLock(fd, path);
}

MaintainerLock::MaintainerLock(MaintainerLock&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

MaintainerLock& MaintainerLock::operator=(MaintainerLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

MaintainerLock::~MaintainerLock() {
  // The lock file stays: removing it would race with a maintainer opening it.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace maintd
