#include "lib/core/maintainer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
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

constexpr char kActivityPrefix[] = "activity ";

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// "<pid>\n", then an optional note line and an optional "activity ..." line, in any order.
MaintainerLock::Content Parse(const std::string& content) {
  MaintainerLock::Content c;
  size_t nl = content.find('\n');
  std::string first = content.substr(0, nl);
  if (!first.empty() && first.find_first_not_of("0123456789 ") == std::string::npos) {
    c.pid = static_cast<pid_t>(std::atol(first.c_str()));
  }
  if (nl == std::string::npos) return c;
  size_t pos = nl + 1;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    std::string line = OneLine(content.substr(pos, end == std::string::npos ? end : end - pos));
    if (line.rfind(kActivityPrefix, 0) == 0) {
      c.activity = line.substr(sizeof kActivityPrefix - 1);
    } else if (!line.empty() && c.note.empty()) {
      c.note = line;
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return c;
}

Status WriteContent(int fd, const std::string& note, const std::string& activity) {
  std::string content = std::to_string(::getpid()) + "\n";
  if (!note.empty()) content += note + "\n";
  if (!activity.empty()) content += kActivityPrefix + activity + "\n";
  // Write first, then cut the old tail: a reader never sees an empty file.
  if (::pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) {
    return Status::IoError(std::string("write: ") + std::strerror(errno));
  }
  if (::ftruncate(fd, static_cast<off_t>(content.size())) != 0) {
    return Status::IoError(std::string("ftruncate: ") + std::strerror(errno));
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
  // Our pid, the note kept; the last holder's activity is not ours.
  std::string note = Parse(ReadAll(fd)).note;
  (void)WriteContent(fd, note, "");
  return MaintainerLock(fd, path, note);
}

Status MaintainerLock::Rewrite() {
  if (fd_ < 0) return Status::Failed("lock released");
  return WriteContent(fd_, note_, activity_);
}

Status MaintainerLock::WriteNote(const std::string& note) {
  std::lock_guard lock(*mu_);
  note_ = OneLine(note);
  return Rewrite();
}

Status MaintainerLock::WriteActivity(const std::string& activity) {
  std::lock_guard lock(*mu_);
  activity_ = OneLine(activity);
  return Rewrite();
}

MaintainerLock::Content MaintainerLock::Read(const std::string& db_path,
                                             const std::string& lock_dir) {
  int fd = ::open(LockPathFor(db_path, lock_dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  Content c = Parse(ReadAll(fd));
  ::close(fd);
  return c;
}

std::string MaintainerLock::ReadNote(const std::string& db_path, const std::string& lock_dir) {
  return Read(db_path, lock_dir).note;
}

MaintainerLock::MaintainerLock(MaintainerLock&& other) noexcept
    : fd_(other.fd_),
      path_(std::move(other.path_)),
      note_at_acquire_(std::move(other.note_at_acquire_)),
      mu_(std::move(other.mu_)),
      note_(std::move(other.note_)),
      activity_(std::move(other.activity_)) {
  other.fd_ = -1;
  other.mu_ = std::make_unique<std::mutex>();
}

MaintainerLock& MaintainerLock::operator=(MaintainerLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    note_at_acquire_ = std::move(other.note_at_acquire_);
    mu_ = std::move(other.mu_);
    note_ = std::move(other.note_);
    activity_ = std::move(other.activity_);
    other.fd_ = -1;
    other.mu_ = std::make_unique<std::mutex>();
  }
  return *this;
}

MaintainerLock::~MaintainerLock() {
  // The lock file stays: removing it would race with a maintainer opening it.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace maintd
