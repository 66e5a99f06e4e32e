#include "lib/inspect/db_header.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace maintd {

namespace {

uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

Result<DbHeader> ReadDbHeader(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::string msg = "cannot open " + path + ": " + std::strerror(errno);
    return errno == ENOENT ? Status::NotFound(msg) : Status::IoError(msg);
  }
  unsigned char h[100] = {0};
  struct stat st {};
  ssize_t n = ::pread(fd, h, sizeof h, 0);
  int stat_rc = ::fstat(fd, &st);
  ::close(fd);
  if (n < 0 || stat_rc != 0) return Status::IoError("cannot read " + path);
  return ParseDbHeader(h, static_cast<size_t>(n), static_cast<int64_t>(st.st_size), path);
}

Result<DbHeader> ParseDbHeader(const unsigned char* h, size_t n, int64_t file_size,
                               const std::string& path) {
  DbHeader hdr;
  hdr.file_size = file_size;
  if (hdr.file_size == 0) return hdr;
  if (n < 100 || std::memcmp(h, "SQLite format 3", 16) != 0) {
    return Status::Corrupt(path + " is not an SQLite database (bad header)");
  }
  int64_t ps = (int64_t{h[16]} << 8) | h[17];
  if (ps == 1) ps = 65536;
  if (ps < 512 || ps > 65536 || (ps & (ps - 1)) != 0) {
    return Status::Corrupt(path + ": invalid page size " + std::to_string(ps));
  }
  hdr.page_size = ps;
  hdr.read_version = h[18];
  hdr.write_version = h[19];
  hdr.change_counter = Be32(h + 24);
  hdr.header_page_count = Be32(h + 28);
  hdr.header_count_valid = hdr.header_page_count > 0 && Be32(h + 24) == Be32(h + 92);
  hdr.freelist_count = Be32(h + 36);
  // The largest root page is set only with auto_vacuum; byte 64 says incremental.
  hdr.auto_vacuum = Be32(h + 52) == 0 ? 0 : Be32(h + 64) != 0 ? 2 : 1;
  if (hdr.file_size % ps != 0) {
    return Status::Corrupt(path + ": size " + std::to_string(hdr.file_size) +
                           " is not a multiple of the page size " + std::to_string(ps) +
                           " (truncated?)");
  }
  if (hdr.header_count_valid && hdr.expected_size() != hdr.file_size) {
    return Status::Corrupt(path + ": header says " + std::to_string(hdr.header_page_count) +
                           " pages (" + std::to_string(hdr.expected_size()) +
                           " bytes) but the file has " + std::to_string(hdr.file_size) +
                           " bytes (truncated?)");
  }
  return hdr;
}

}  // namespace maintd
