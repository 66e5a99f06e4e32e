#include "lib/backup/online_backup.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "lib/backup/catalog.h"
#include "lib/backup/file_util.h"
#include "lib/backup/snapshot_copy.h"
#include "lib/backup/temp_backup.h"
#include "lib/backup/verify.h"
#include "lib/inspect/db_stats.h"
#include "lib/sqlite/pause.h"

namespace maintd {
namespace {

using Steady = std::chrono::steady_clock;

int64_t MsSince(Steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - t).count();
}

// Ends the read transaction on the source when the backup is done or fails, and puts the
// connection's mmap_size back.
class SourceSnapshot {
 public:
  explicit SourceSnapshot(Connection& conn) : conn_(conn) {}
  ~SourceSnapshot() { End(); }
  Status Begin(int64_t mmap_bytes) {
    if (mmap_bytes > 0) {
      auto old = conn_.QueryInt("PRAGMA mmap_size");
      if (old.ok()) old_mmap_ = *old;
      (void)conn_.QueryInt("PRAGMA mmap_size=" + std::to_string(mmap_bytes));
    }
    MAINTD_RETURN_IF_ERROR(conn_.Exec("BEGIN"));
    open_ = true;
    // The first read starts the transaction: from here on this is our snapshot.
    auto r = conn_.QueryInt("SELECT count(*) FROM sqlite_master");
    return r.ok() ? Status::Ok() : r.status();
  }
  void End() {
    if (open_ && conn_.InTransaction()) (void)conn_.Exec("ROLLBACK");
    open_ = false;
    if (old_mmap_ >= 0) (void)conn_.QueryInt("PRAGMA mmap_size=" + std::to_string(old_mmap_));
    old_mmap_ = -1;
  }

 private:
  Connection& conn_;
  bool open_ = false;
  int64_t old_mmap_ = -1;
};

// How long the page copy waits before retrying a step that found the source locked.
constexpr Millis kBusyRetryPause{10};

Status StopRequested(const StopToken& stop, const Clock& clock,
                     std::optional<SteadyTime> deadline) {
  if (stop.stop_requested()) {
    return Status::Interrupted("backup stopped before it finished");
  }
  if (deadline && clock.SteadyNow() >= *deadline) {
    return Status::Interrupted("backup interrupted by the deadline");
  }
  return Status::Ok();
}

// Copies every page of `source` into `dest` in chunks under the caller's read transaction.
Status CopyPages(Connection& source, TempBackup& dest, int64_t chunk_pages, StopToken& stop,
                 const Clock& clock, std::optional<SteadyTime> deadline, int64_t* steps,
                 ProgressSink* progress) {
  sqlite3_backup* b = sqlite3_backup_init(dest.db(), "main", source.raw(), "main");
  if (b == nullptr) {
    return StatusFromSqlite(sqlite3_errcode(dest.db()),
                            std::string("backup init: ") + sqlite3_errmsg(dest.db()));
  }
  Status status;
  auto busy_until = clock.SteadyNow() + source.busy_timeout();
  while (true) {
    int rc = sqlite3_backup_step(b, static_cast<int>(chunk_pages));
    if (rc == SQLITE_OK || rc == SQLITE_DONE) {
      ++*steps;
      dest.WriteBack();
      int total = sqlite3_backup_pagecount(b);
      ReportProgress(progress, "copy", static_cast<uint64_t>(total - sqlite3_backup_remaining(b)),
                     static_cast<uint64_t>(total), "pages");
      if (rc == SQLITE_DONE) break;
      status = StopRequested(stop, clock, deadline);
      if (!status.ok()) break;
      busy_until = clock.SteadyNow() + source.busy_timeout();
      continue;
    }
    int primary = rc & 0xff;
    if ((primary == SQLITE_BUSY || primary == SQLITE_LOCKED) && clock.SteadyNow() < busy_until) {
      if (PauseUnlessStopped(stop, clock, kBusyRetryPause, deadline)) continue;
      status = StopRequested(stop, clock, deadline);
      if (status.ok()) status = Status::Interrupted("backup stopped before it finished");
      break;
    }
    status = StatusFromSqlite(rc, std::string("backup step: ") + sqlite3_errstr(rc));
    break;
  }
  int rc = sqlite3_backup_finish(b);
  if (status.ok() && rc != SQLITE_OK) {
    status = StatusFromSqlite(rc, std::string("backup finish: ") + sqlite3_errmsg(dest.db()));
  }
  return status;
}

// 0600, or the source's mode when that is stricter (never without owner read).
mode_t BackupMode(const std::string& source) {
  auto m = FileMode(source);
  if (!m.ok()) return 0600;
  mode_t mode = *m & 0600;
  return (mode & 0400) ? mode : 0600;
}

}  // namespace

Result<BackupResult> TakeBackup(Connection& source, const BackupOptions& options,
                                const Clock& clock, StopToken* stop,
                                std::optional<Steady::time_point> deadline) {
  auto start = Steady::now();
  if (source.InTransaction()) {
    return Status::Failed("backup needs a source connection without an open transaction");
  }
  if (options.dir.empty() || options.name.empty()) {
    return Status::InvalidArgument("backup needs a destination directory and a name");
  }
  StopToken no_stop;  // when the caller has none
  StopToken& token = stop != nullptr ? *stop : no_stop;
  BackupResult r;
  r.source = source.path();
  r.verify = ToString(options.verify);

  SourceSnapshot snapshot(source);
  r.snapshot = clock.Now();
  auto pinned = PinSnapshot(
      source, [&] { return snapshot.Begin(options.mmap_bytes); },
      options.method == BackupMethod::kAuto);
  if (!pinned.ok()) return pinned.status();
  r.page_size = pinned->page_size;
  r.page_count = pinned->page_count;
  r.journal_mode = pinned->journal_mode;
  r.method = pinned->file_copy ? "file" : "page";
  if (!pinned->file_copy && options.method == BackupMethod::kAuto) {
    spdlog::info("backup of {}: copying page by page ({})", r.source, pinned->fallback_reason);
  }
  const int64_t db_bytes = r.page_size * r.page_count;

  // Free disk first, before anything is written.
  MAINTD_RETURN_IF_ERROR(MakeDirs(options.dir, 0700));
  Result<int64_t> free_bytes =
      options.free_bytes ? options.free_bytes(options.dir) : Result<int64_t>(int64_t{0});
  if (!options.free_bytes) {
    auto disk = ReadDiskSpace(options.dir);
    if (!disk.ok()) return disk.status();
    free_bytes = disk->free_bytes;
  }
  if (!free_bytes.ok()) return free_bytes.status();
  r.free_bytes = *free_bytes;
  r.required_bytes =
      std::max(static_cast<int64_t>(std::ceil(options.min_free_disk_factor * db_bytes)),
               db_bytes + options.free_disk_margin);
  if (r.free_bytes < r.required_bytes) {
    return Status::Refused("not enough free disk in " + options.dir + " for a backup of " +
                           r.source + ": need " + std::to_string(r.required_bytes) +
                           " bytes (max of " + std::to_string(options.min_free_disk_factor) +
                           " x database size " + std::to_string(db_bytes) + ", size + " +
                           std::to_string(options.free_disk_margin) + "), " +
                           std::to_string(r.free_bytes) + " available");
  }
  if (r.journal_mode != "wal") {
    spdlog::warn(
        "backup of {}: journal_mode={} so writers wait for the whole copy (SQLite's "
        "limit in rollback-journal mode; WAL mode avoids it)",
        r.source, r.journal_mode);
  }

  // The name's stamp is the snapshot time; two backups in one second move the later one's
  // name forward by a second (the sidecar keeps the exact time).
  SystemTime stamp = r.snapshot;
  std::string final_name = BackupFileName(options.name, stamp);
  for (int i = 0; i < 3600 && (FileExists(options.dir + "/" + final_name) ||
                               FileExists(options.dir + "/" + BackupTempName(final_name)));
       ++i) {
    stamp += std::chrono::seconds(1);
    final_name = BackupFileName(options.name, stamp);
  }
  r.path = options.dir + "/" + final_name;

  TempBackup temp(options.dir + "/" + BackupTempName(final_name));
  MAINTD_RETURN_IF_ERROR(temp.Create());
  spdlog::debug("backup of {}: snapshot pinned ({} copy), copying to {}", r.source, r.method,
                temp.path());
  auto copy_start = Steady::now();
  if (pinned->file_copy) {
    int64_t copied = 0;  // the furthest byte written (the overlay rewrites earlier pages)
    auto write = [&](const void* data, int64_t n, int64_t offset) {
      copied = std::max(copied, offset + n);
      return temp.Write(data, n, offset);
    };
    auto after_chunk = [&]() -> Status {
      ++r.steps;
      temp.WriteBack();
      ReportProgress(options.progress, "copy", static_cast<uint64_t>(copied),
                     static_cast<uint64_t>(db_bytes), "bytes");
      return StopRequested(token, clock, deadline);
    };
    MAINTD_RETURN_IF_ERROR(
        CopyPinnedSnapshot(source, *pinned, options.chunk_bytes, write, after_chunk));
  } else {
    MAINTD_RETURN_IF_ERROR(temp.OpenDb());
    int64_t chunk_pages =
        std::max<int64_t>(16, options.chunk_bytes / std::max<int64_t>(r.page_size, 512));
    MAINTD_RETURN_IF_ERROR(CopyPages(source, temp, chunk_pages, token, clock, deadline, &r.steps,
                                     options.progress));
  }
  snapshot.End();  // release the snapshot at once: checkpoints may pass it again
  r.copy_ms = MsSince(copy_start);
  spdlog::debug("backup of {}: {} copy of {} pages done in {} ms ({} steps)", r.source, r.method,
                r.page_count, r.copy_ms, r.steps);

  auto sync_start = Steady::now();
  ReportProgress(options.progress, "sync", 0, 0, "bytes");
  MAINTD_RETURN_IF_ERROR(temp.SyncAndClose());
  MAINTD_RETURN_IF_ERROR(FsyncDir(options.dir));
  r.sync_ms = MsSince(sync_start);
  spdlog::debug("backup of {}: synced in {} ms", r.source, r.sync_ms);

  auto verify_start = Steady::now();
  ReportProgress(options.progress, "verify", 0, 0, "pages");
  auto header = ReadDbHeader(temp.path());
  if (!header.ok()) return Status::Failed("backup copy is damaged: " + header.status().message());
  if (header->file_size != db_bytes) {
    return Status::Failed("backup copy has " + std::to_string(header->file_size) +
                          " bytes, the snapshot " + std::to_string(db_bytes));
  }
  auto verified = VerifyBackupFile(temp.path(), options.verify);
  r.verify_ms = MsSince(verify_start);
  if (!verified.ok()) {
    return Status::Failed("backup of " + r.source + " failed verification and was deleted (" +
                          verified.status().message() +
                          "); the source itself may be damaged: run `sqlite-maintd check "
                          "--full` on it");
  }
  r.verify_result = verified->detail;
  spdlog::debug("backup of {}: verified ({}) in {} ms", r.source, r.verify, r.verify_ms);
  r.bytes = header->file_size;

  mode_t mode = BackupMode(r.source);
  if (::chmod(temp.path().c_str(), mode) != 0) {
    return Status::IoError("chmod " + temp.path() + ": " + std::strerror(errno));
  }
  r.duration_ms = MsSince(start);
  BackupSidecar sidecar{r.source, options.name,    r.snapshot,   clock.Now(),
                        r.bytes,  r.page_size,     r.page_count, r.journal_mode,
                        r.verify, r.verify_result, r.duration_ms};
  MAINTD_RETURN_IF_ERROR(
      WriteFileDurable(SidecarPath(r.path), sidecar.ToJson().dump(2) + "\n", mode));
  Status renamed = RenameNoReplace(temp.path(), r.path);
  if (!renamed.ok()) {
    (void)RemoveIfExists(SidecarPath(r.path));
    return renamed;
  }
  temp.Keep();
  MAINTD_RETURN_IF_ERROR(FsyncDir(options.dir));
  // The copy is on disk; drop it from the page cache so it does not push out the
  // application's pages (plain open/close: no SQLite connection to this file is open).
  int fd = ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
  r.duration_ms = MsSince(start);
  return r;
}

}  // namespace maintd
