#include "lib/backup/temp_backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "lib/sqlite/connection.h"

namespace maintd {

TempBackup::TempBackup(std::string path) : path_(std::move(path)) {
  vfs_name_.assign(path_.begin(), path_.end());
  vfs_name_.resize(vfs_name_.size() + 4, '\0');
}

TempBackup::~TempBackup() {
  (void)CloseSqliteHandles();
  if (fd_ >= 0) ::close(fd_);
  if (!keep_) ::unlink(path_.c_str());
}

Status TempBackup::Create() {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) return Status::IoError("cannot create " + path_ + ": " + std::strerror(errno));
  return Status::Ok();
}

Status TempBackup::Write(const void* data, int64_t n, int64_t offset) {
  if (vfs_file_ == nullptr) {
    sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
    auto* file = static_cast<sqlite3_file*>(sqlite3_malloc(vfs->szOsFile));
    if (file == nullptr) return Status::IoError("out of memory opening " + path_);
    std::memset(file, 0, static_cast<size_t>(vfs->szOsFile));
    int out_flags = 0;
    int rc = vfs->xOpen(vfs, vfs_name_.data(), file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB,
                        &out_flags);
    if (rc != SQLITE_OK) {
      if (file->pMethods != nullptr) file->pMethods->xClose(file);
      sqlite3_free(file);
      return StatusFromSqlite(rc, "cannot open " + path_ + ": " + sqlite3_errstr(rc));
    }
    vfs_file_ = file;
  }
  // In pieces: the unix VFS writes at most 128 KiB - 1 per call.
  constexpr int64_t kPiece = 64 * 1024;
  const auto* in = static_cast<const unsigned char*>(data);
  for (int64_t done = 0; done < n;) {
    int piece = static_cast<int>(std::min(n - done, kPiece));
    int rc = vfs_file_->pMethods->xWrite(vfs_file_, in + done, piece, offset + done);
    if (rc != SQLITE_OK) {
      return StatusFromSqlite(rc, "write " + path_ + " at offset " +
                                      std::to_string(offset + done) + ": " + sqlite3_errstr(rc));
    }
    done += piece;
  }
  return Status::Ok();
}

Status TempBackup::OpenDb() {
  int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    return StatusFromSqlite(rc, "cannot open " + path_ + ": " + sqlite3_errstr(rc));
  }
  char* err = nullptr;
  rc = sqlite3_exec(db_,
                    "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                    "PRAGMA locking_mode=EXCLUSIVE",
                    nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  if (rc != SQLITE_OK) return StatusFromSqlite(rc, "set up " + path_ + ": " + msg);
  return Status::Ok();
}

void TempBackup::WriteBack() {
  if (sync_file_range_ok_ &&
      ::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE) == 0) {
    return;
  }
  sync_file_range_ok_ = false;
  (void)::fdatasync(fd_);
}

Status TempBackup::CloseSqliteHandles() {
  Status status;
  if (db_ != nullptr) {
    int rc = sqlite3_close_v2(db_);
    db_ = nullptr;
    if (rc != SQLITE_OK) status = StatusFromSqlite(rc, "close " + path_);
  }
  if (vfs_file_ != nullptr) {
    int rc = vfs_file_->pMethods->xClose(vfs_file_);
    sqlite3_free(vfs_file_);
    vfs_file_ = nullptr;
    if (rc != SQLITE_OK && status.ok()) status = StatusFromSqlite(rc, "close " + path_);
  }
  return status;
}

Status TempBackup::SyncAndClose() {
  MAINTD_RETURN_IF_ERROR(CloseSqliteHandles());
  if (::fsync(fd_) != 0) return Status::IoError("fsync " + path_ + ": " + std::strerror(errno));
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return Status::IoError("close " + path_ + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace maintd
