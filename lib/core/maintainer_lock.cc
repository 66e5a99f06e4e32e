#include "lib/core/maintainer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace maintd {

namespace {

// The lock file's content: "<pid>\n" and an optional "<note>\n".
std::string ReadAll(int fd) {
  std::string content;
  char buf[4096];
  off_t off = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n <= 0) break;
    content.append(buf, static_cast<size_t>(n));
    off += n;
    if (content.size() > 64 * 1024) break;
  }
  return content;
}

std::string NoteOf(const std::string& content) {
  size_t nl = content.find('\n');
  if (nl == std::string::npos) return "";
  std::string note = content.substr(nl + 1);
  while (!note.empty() && (note.back() == '\n' || note.back() == ' ')) note.pop_back();
  return note;
}

Status WriteContent(int fd, const std::string& note) {
  std::string content = std::to_string(::getpid()) + "\n";
  if (!note.empty()) content += note + "\n";
  if (::ftruncate(fd, 0) != 0) return Status::IoError(std::string("ftruncate: ") + std::strerror(errno));
  if (::pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) {
    return Status::IoError(std::string("write: ") + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

std::string MaintainerLock::LockPathFor(const std::string& db_path, const std::string& lock_dir) {
  if (lock_dir.empty()) return db_path + "-maintd.lock";
  std::string escaped;
  for (char c : db_path) escaped += (c == '/') ? '_' : c;
  return lock_dir + "/" + escaped + "-maintd.lock";
}

Result<MaintainerLock> MaintainerLock::Acquire(const std::string& db_path,
                                               const std::string& lock_dir) {
  std::string path = LockPathFor(db_path, lock_dir);
  // Open an existing file without O_CREAT first: with O_CREAT the kernel locks the
  // directory exclusively, which serializes the take-over of 10,000 tenants in one dir.
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
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
    holder = holder.substr(0, holder.find('\n'));  // the first line: the pid
    while (!holder.empty() && holder.back() == ' ') holder.pop_back();
    if (err == EWOULDBLOCK) {
      return Status::LockHeld("another maintainer holds " + path +
                              (holder.empty() ? "" : " (pid " + holder + ")") +
                              "; only one sqlite-maintd may maintain a database at a time");
    }
    return Status::IoError("flock " + path + ": " + std::strerror(err));
  }
  std::string note = NoteOf(ReadAll(fd));
  (void)WriteContent(fd, note);  // our pid, the note kept
  MaintainerLock lock(fd, path);
  lock.note_at_acquire_ = std::move(note);
  return lock;
}

Status MaintainerLock::WriteNote(const std::string& note) {
  if (fd_ < 0) return Status::Failed("lock released");
  std::string one_line = note;
  for (char& c : one_line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return WriteContent(fd_, one_line);
}

std::string MaintainerLock::ReadNote(const std::string& db_path, const std::string& lock_dir) {
  int fd = ::open(LockPathFor(db_path, lock_dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string note = NoteOf(ReadAll(fd));
  ::close(fd);
  return note;
}

MaintainerLock::MaintainerLock(MaintainerLock&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)),
      note_at_acquire_(std::move(other.note_at_acquire_)) {
  other.fd_ = -1;
}

MaintainerLock& MaintainerLock::operator=(MaintainerLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    note_at_acquire_ = std::move(other.note_at_acquire_);
    other.fd_ = -1;
  }
  return *this;
}

MaintainerLock::~MaintainerLock() {
  // The lock file stays: removing it would race with a maintainer opening it.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace maintd
