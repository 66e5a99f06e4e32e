#include "lib/inspect/file_signature.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/sqlite/open_files.h"

namespace maintd {
namespace {

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

int64_t Nanos(const struct timespec& t) { return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; }

// One pread of `n` bytes at offset 0; false when the file cannot be read that far.
bool ReadPrefix(const std::string& path, unsigned char* buf, size_t n) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  ssize_t got = ::pread(fd, buf, n, 0);
  ::close(fd);
  return got == static_cast<ssize_t>(n);
}

// The main file's stat part.
void SetMainStat(FileSignature& sig, const struct stat& st) {
  sig.exists = true;
  sig.dev = static_cast<uint64_t>(st.st_dev);
  sig.ino = static_cast<uint64_t>(st.st_ino);
  sig.size = st.st_size;
  sig.mtime_ns = Nanos(st.st_mtim);
  sig.ctime_ns = Nanos(st.st_ctim);
}

}  // namespace

bool FileStamp::SameAs(const FileStamp& o) const {
  const bool main_same = header_known && o.header_known && exists == o.exists && dev == o.dev &&
                         ino == o.ino && size == o.size && mtime_ns == o.mtime_ns &&
                         ctime_ns == o.ctime_ns && change_counter == o.change_counter &&
                         page_count == o.page_count && freelist_count == o.freelist_count;
  if (!main_same) return false;
  // A WAL without frames on both sides (absent, empty, or a header only) holds no content:
  // the database is the main file alone, compared above. A reader that opens the database
  // and leaves an empty -wal behind (any read-only connection does) is no change.
  if (!WalHasFrames() && !o.WalHasFrames()) return true;
  return wal_exists == o.wal_exists && wal_size == o.wal_size && wal_mtime_ns == o.wal_mtime_ns &&
         wal_ctime_ns == o.wal_ctime_ns && wal_checkpoint_seq == o.wal_checkpoint_seq &&
         wal_salt1 == o.wal_salt1 && wal_salt2 == o.wal_salt2;
}

std::string FileStamp::Describe() const {
  if (!exists) return "missing";
  std::string s = "size=" + std::to_string(size) + " mtime_ns=" + std::to_string(mtime_ns);
  s += header_known ? " change_counter=" + std::to_string(change_counter) +
                          " page_count=" + std::to_string(page_count) +
                          " freelist_count=" + std::to_string(freelist_count)
                    : " header=unknown";
  if (wal_exists) {
    s += " wal_size=" + std::to_string(wal_size) + " wal_salt1=" + std::to_string(wal_salt1) +
         " wal_checkpoint_seq=" + std::to_string(wal_checkpoint_seq);
  } else {
    s += " wal=absent";
  }
  return s;
}

FileSignature ReadFileSignature(const std::string& path) {
  FileSignature sig;
  // The WAL first: a commit that lands between the two reads then shows in the main file's
  // part at the latest on the next read, never hidden by an older WAL view.
  const std::string wal = path + "-wal";
  struct stat wst {};
  if (::stat(wal.c_str(), &wst) == 0) {
    sig.wal_exists = true;
    sig.wal_size = wst.st_size;
    sig.wal_mtime_ns = Nanos(wst.st_mtim);
    sig.wal_ctime_ns = Nanos(wst.st_ctim);
    unsigned char h[32];
    // SQLite holds no POSIX lock on the -wal (file_signature.h): our descriptor is safe.
    if (sig.wal_size >= 32 && ReadPrefix(wal, h, sizeof h)) {
      sig.wal_checkpoint_seq = BigEndian32(h + 12);
      sig.wal_salt1 = BigEndian32(h + 16);
      sig.wal_salt2 = BigEndian32(h + 20);
    }
  }
  bool read = ReadIfNoConnectionOpen(path, [&](const struct stat& st) {
    SetMainStat(sig, st);
    unsigned char h[100];
    if (st.st_size >= 100 && ReadPrefix(path, h, sizeof h)) {
      sig.header_known = true;
      sig.change_counter = BigEndian32(h + 24);
      sig.page_count = BigEndian32(h + 28);
      sig.freelist_count = BigEndian32(h + 36);
      auto parsed = ParseDbHeader(h, sizeof h, static_cast<int64_t>(st.st_size), path);
      if (parsed.ok()) sig.header = *parsed;
    } else if (st.st_size == 0) {
      sig.header_known = true;  // an empty database: no header yet, nothing to read
    }
  });
  if (!read) {
    // A connection of ours is open on it (or it vanished): stat only, header unknown.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) SetMainStat(sig, st);
  }
  return sig;
}

}  // namespace maintd
