#include "lib/inspect/db_stats.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace maintd {

const char* AutoVacuumName(int64_t mode) {
  switch (mode) {
    case 0: return "none";
    case 1: return "full";
    case 2: return "incremental";
  }
  return "unknown";
}

int64_t FileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_size);
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Result<DbStats> ReadDbStats(Connection& conn) {
  DbStats s;
  auto read = [&](const char* sql, int64_t* out) -> Status {
    auto v = conn.QueryInt(sql);
    if (!v.ok()) return v.status();
    *out = *v;
    return Status::Ok();
  };
  MAINTD_RETURN_IF_ERROR(read("PRAGMA page_size", &s.page_size));
  MAINTD_RETURN_IF_ERROR(read("PRAGMA page_count", &s.page_count));
  MAINTD_RETURN_IF_ERROR(read("PRAGMA freelist_count", &s.freelist_count));
  MAINTD_RETURN_IF_ERROR(read("PRAGMA auto_vacuum", &s.auto_vacuum));
  auto mode = conn.QueryText("PRAGMA journal_mode");
  if (!mode.ok()) return mode.status();
  s.journal_mode = *mode;
  auto ls = conn.QueryInt(
      "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='_litestream_seq'");
  if (!ls.ok()) return ls.status();
  s.litestream = *ls > 0;
  s.file_size = FileSize(conn.path());
  s.wal_size = FileSize(conn.path() + "-wal");
  return s;
}

std::string DirName(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string FileStem(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = base.find_last_of('.');
  if (dot == std::string::npos || dot == 0) return base;
  return base.substr(0, dot);
}

Result<DiskSpace> ReadDiskSpace(const std::string& path) {
  struct stat st {};
  std::string dir = (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) ? path
                                                                          : DirName(path);
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) {
    return Status::IoError("statvfs " + dir + " failed");
  }
  DiskSpace d;
  d.free_bytes = static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
  d.total_bytes = static_cast<int64_t>(vfs.f_blocks) * static_cast<int64_t>(vfs.f_frsize);
  return d;
}

namespace {

// The mount whose mount point is the longest prefix of `path`, from /proc/self/mountinfo:
// returns the fstype field ("fuse.sshfs", "nfs4", ...).
std::string MountTypeFor(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, best_type;
  size_t best_len = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point, token;
    fields >> id >> parent >> devno >> root >> mount_point;
    while (fields >> token && token != "-") {}
    std::string fstype;
    fields >> fstype;
    bool prefix = path.compare(0, mount_point.size(), mount_point) == 0 &&
                  (path.size() == mount_point.size() || mount_point == "/" ||
                   path[mount_point.size()] == '/');
    if (prefix && mount_point.size() >= best_len) {
      best_len = mount_point.size();
      best_type = fstype;
    }
  }
  return best_type;
}

}  // namespace

Result<FilesystemInfo> ReadFilesystem(const std::string& path) {
  struct statfs fs {};
  std::string target = FileExists(path) ? path : DirName(path);
  if (::statfs(target.c_str(), &fs) != 0) {
    return Status::IoError("statfs " + target + " failed");
  }
  FilesystemInfo info;
  auto magic = static_cast<uint32_t>(fs.f_type);
  switch (magic) {
    case 0x6969: info = {"nfs", true}; break;
    case 0x517B: info = {"smb", true}; break;
    case 0xFF534D42: info = {"cifs", true}; break;
    case 0xFE534D42: info = {"smb2", true}; break;
    case 0x00C36400: info = {"ceph", true}; break;
    case 0x01021997: info = {"9p", true}; break;
    case 0x5346414F: info = {"afs", true}; break;
    case 0x65735546: {
      // FUSE is ambiguous: sshfs and friends are network, others local.
      char resolved[PATH_MAX];
      std::string abs = realpath(target.c_str(), resolved) ? resolved : target;
      info.type = MountTypeFor(abs);
      if (info.type.empty()) info.type = "fuse";
      for (const char* net : {"sshfs", "s3fs", "gcsfuse", "rclone", "glusterfs", "davfs"}) {
        if (info.type.find(net) != std::string::npos) info.network = true;
      }
      break;
    }
    case 0xEF53: info.type = "ext4"; break;
    case 0x58465342: info.type = "xfs"; break;
    case 0x9123683E: info.type = "btrfs"; break;
    case 0x01021994: info.type = "tmpfs"; break;
    case 0x794C7630: info.type = "overlayfs"; break;
    case 0x2FC12FC1: info.type = "zfs"; break;
    default: {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%x", magic);
      info.type = buf;
    }
  }
  return info;
}

std::string SqliteTempDir() {
  for (const char* var : {"SQLITE_TMPDIR", "TMPDIR"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0' && access(v, W_OK | X_OK) == 0) return v;
  }
  for (const char* dir : {"/var/tmp", "/usr/tmp", "/tmp"}) {
    if (access(dir, W_OK | X_OK) == 0) return dir;
  }
  return ".";
}

}  // namespace maintd
