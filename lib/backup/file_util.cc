#include "lib/backup/file_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "lib/inspect/db_stats.h"

namespace maintd {
namespace {

Status Errno(const std::string& what, const std::string& path, int err = errno) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  return Status::IoError(msg);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close(2) reporting its error (write-back errors can surface here).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

}  // namespace

Status FsyncFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("open", path);
  if (::fsync(fd.get()) != 0) return Errno("fsync", path);
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("open directory", dir);
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return Errno("fsync directory", dir);
  return Status::Ok();
}

Status MakeDirs(const std::string& dir, mode_t mode) {
  if (dir.empty() || dir == "/" || dir == ".") return Status::Ok();
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::IoError(dir + " exists and is not a directory");
  }
  MAINTD_RETURN_IF_ERROR(MakeDirs(DirName(dir), mode));
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return Errno("mkdir", dir);
  return FsyncDir(DirName(dir));
}

Result<int64_t> CopyFileDurable(const std::string& from, const std::string& to, mode_t mode,
                                ProgressSink* progress, std::string_view phase) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Errno("open", from);
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (out.get() < 0) return Errno("create", to);
  auto fail = [&](Status s) -> Result<int64_t> {
    ::unlink(to.c_str());
    return s;
  };
  // open(2) applies the umask; the caller's mode is what it asked for.
  if (::fchmod(out.get(), mode) != 0) return fail(Errno("chmod", to));
  int64_t total = 0;
  bool use_copy_range = true;
  std::vector<char> buf;
  while (true) {
    ssize_t n = -1;
    if (use_copy_range) {
      n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 8 << 20, 0);
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
        use_copy_range = false;
        continue;
      }
    } else {
      if (buf.empty()) buf.resize(1 << 20);
      n = ::read(in.get(), buf.data(), buf.size());
      for (ssize_t off = 0; n > 0 && off < n;) {
        ssize_t w = ::write(out.get(), buf.data() + off, static_cast<size_t>(n - off));
        if (w < 0) {
          if (errno == EINTR) continue;
          return fail(Errno("write", to));
        }
        off += w;
      }
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Errno("copy to", to));
    }
    if (n == 0) break;
    total += n;
    if (progress != nullptr) {
      struct stat st {};
      uint64_t size = ::fstat(in.get(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
      ReportProgress(progress, phase, static_cast<uint64_t>(total), size, "bytes");
    }
  }
  if (::fsync(out.get()) != 0) return fail(Errno("fsync", to));
  if (out.Close() != 0) return fail(Errno("close", to));
  return total;
}

Status WriteFileDurable(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = DirName(path) + "/." + BaseName(path) + ".tmp";
  ::unlink(tmp.c_str());
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (fd.get() < 0) return Errno("create", tmp);
    size_t off = 0;
    while (off < content.size()) {
      ssize_t w = ::write(fd.get(), content.data() + off, content.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        Status s = Errno("write", tmp);
        ::unlink(tmp.c_str());
        return s;
      }
      off += static_cast<size_t>(w);
    }
    if (::fsync(fd.get()) != 0 || fd.Close() != 0) {
      Status s = Errno("fsync", tmp);
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Errno("rename to", path);
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(DirName(path));
}

Status RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return Status::Ok();
  }
  if (errno != EINVAL && errno != ENOSYS) return Errno("rename " + from + " to", to);
  // File systems without RENAME_NOREPLACE: link() fails on an existing target.
  if (::link(from.c_str(), to.c_str()) != 0) return Errno("link " + from + " to", to);
  ::unlink(from.c_str());
  return Status::Ok();
}

Status RemoveIfExists(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("remove", path);
  return Status::Ok();
}

std::string BaseName(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string SqliteFileUri(const std::string& path, const std::string& query) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "file:";
  for (unsigned char c : path) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '/' || c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (!query.empty()) out += "?" + query;
  return out;
}

Result<mode_t> FileMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Errno("stat", path);
  return static_cast<mode_t>(st.st_mode & 07777);
}

}  // namespace maintd
