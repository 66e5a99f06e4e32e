#include "lib/backup/snapshot_copy.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include "lib/wal/wal_index.h"

namespace maintd {
namespace {

constexpr int64_t kWalHeaderBytes = 32;
constexpr int64_t kFrameHeaderBytes = 24;
constexpr int64_t kVfsIoBytes = 64 * 1024;
constexpr std::chrono::milliseconds kMaxPinWait{1000};

uint32_t ReadBigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

sqlite3_file* OpenFileOf(Connection& conn, int op) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(conn.raw(), "main", op, &file) != SQLITE_OK) return nullptr;
  return (file != nullptr && file->pMethods != nullptr) ? file : nullptr;
}

// In pieces of at most kVfsIoBytes: the unix VFS serves at most 128 KiB - 1 per call.
Status ReadAt(sqlite3_file* file, void* buf, int64_t n, int64_t offset, const std::string& what) {
  auto* out = static_cast<unsigned char*>(buf);
  for (int64_t done = 0; done < n;) {
    int piece = static_cast<int>(std::min(n - done, kVfsIoBytes));
    int rc = file->pMethods->xRead(file, out + done, piece, offset + done);
    if (rc != SQLITE_OK) {
      return StatusFromSqlite(rc, "read " + what + " at offset " + std::to_string(offset + done) +
                                      ": " + sqlite3_errstr(rc));
    }
    done += piece;
  }
  return Status::Ok();
}

// The latest frame <= header.max_frame of every page of the snapshot, from the frame
// headers of the WAL. Returns a reason when a frame is not of this WAL's generation.
std::optional<std::string> ReadOverlay(sqlite3_file* wal, const WalIndexHeader& header,
                                       PinnedSnapshot* snap, Status* io_error) {
  const int64_t frame_bytes = snap->page_size + kFrameHeaderBytes;
  // (page, frame) of every frame: memory follows the WAL's length, not the database's.
  std::vector<std::pair<uint32_t, uint32_t>> frames;
  frames.reserve(header.max_frame);
  unsigned char frame_header[kFrameHeaderBytes];
  for (uint32_t frame = 1; frame <= header.max_frame; ++frame) {
    int64_t offset = kWalHeaderBytes + (int64_t{frame} - 1) * frame_bytes;
    *io_error = ReadAt(wal, frame_header, kFrameHeaderBytes, offset, "the WAL");
    if (!io_error->ok()) return io_error->message();
    uint32_t page = ReadBigEndian32(frame_header);
    if (page == 0 || std::memcmp(frame_header + 8, header.salt, sizeof header.salt) != 0) {
      return "WAL frame " + std::to_string(frame) + " is not of the snapshot's generation";
    }
    // Pages past the snapshot's size belong to a shrink that an earlier commit undid.
    if (page <= snap->page_count) frames.emplace_back(page, frame);
  }
  // Sorted by page, then frame: the last entry of each page is its latest frame.
  std::sort(frames.begin(), frames.end());
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i + 1 == frames.size() || frames[i + 1].first != frames[i].first) {
      snap->overlay.push_back(frames[i]);
    }
  }
  return std::nullopt;
}

}  // namespace

Result<PinnedSnapshot> PinSnapshot(Connection& source, const std::function<Status()>& begin_read,
                                   bool allow_file_copy) {
  PinnedSnapshot snap;
  auto mode = source.QueryText("PRAGMA journal_mode");
  if (!mode.ok()) return mode.status();
  snap.journal_mode = *mode;

  // WAL: hold the write lock while the snapshot is taken and its wal-index header read.
  std::optional<Connection> writer_lock;
  if (!allow_file_copy) {
    snap.fallback_reason = "page copy asked for";
  } else if (snap.journal_mode == "wal") {
    // A writer holding its transaction longer than this gets the page copy instead, which
    // needs no write lock: a long transaction never makes the backup fail.
    OpenOptions options;
    options.busy_timeout = std::min(source.busy_timeout(), kMaxPinWait);
    auto lock = Connection::Open(source.path(), options);
    if (!lock.ok()) {
      snap.fallback_reason = "no read-write connection: " + lock.status().message();
    } else if (Status s = lock->Exec("BEGIN IMMEDIATE"); !s.ok()) {
      snap.fallback_reason = "write lock not available: " + s.message();
    } else {
      writer_lock = std::move(*lock);
    }
  }
  MAINTD_RETURN_IF_ERROR(begin_read());
  auto page_size = source.QueryInt("PRAGMA page_size");
  if (!page_size.ok()) return page_size.status();
  auto page_count = source.QueryInt("PRAGMA page_count");
  if (!page_count.ok()) return page_count.status();
  snap.page_size = *page_size;
  snap.page_count = *page_count;
  if (!allow_file_copy) return snap;
  // The mode read before the snapshot must still hold inside it: a database switched to WAL
  // in between would otherwise be copied without its WAL.
  auto mode_now = source.QueryText("PRAGMA journal_mode");
  if (!mode_now.ok()) return mode_now.status();
  if (*mode_now != snap.journal_mode) {
    snap.fallback_reason = "journal mode changed from " + snap.journal_mode + " to " + *mode_now;
    snap.journal_mode = *mode_now;
    return snap;
  }
  if (snap.journal_mode != "wal") {
    snap.file_copy = true;  // SHARED lock: the main file is the snapshot, and stays it
    return snap;
  }
  if (!writer_lock) return snap;

  WalIndexHeader header{};
  sqlite3_file* main_file = OpenFileOf(source, SQLITE_FCNTL_FILE_POINTER);
  // The header and the backfill mark, through SQLite's mapping of the -shm (wal_index.h).
  WalCheckpointInfo ckpt;
  std::optional<std::string> unusable;
  if (main_file == nullptr) {
    unusable = "no handle on the database file";
  } else if (std::string why = ReadWalIndexRegion(main_file, &header, &ckpt); !why.empty()) {
    unusable = why;
  }
  snap.backfilled = ckpt.backfilled;
  (void)writer_lock->Exec("ROLLBACK");
  writer_lock.reset();  // writers may go on: our read transaction keeps the snapshot
  if (unusable) {
    snap.fallback_reason = *unusable;
    return snap;
  }
  int64_t header_page_size = header.page_size == 1 ? 65536 : header.page_size;
  snap.wal_frames = header.max_frame;
  if (header.max_frame > 0 &&
      (header_page_size != snap.page_size || header.n_page != snap.page_count)) {
    snap.fallback_reason = "the wal-index does not match the snapshot";
    return snap;
  }
  if (header.max_frame == 0 || snap.backfilled >= header.max_frame) {
    snap.file_copy = true;  // everything is in the main file, and no checkpoint can pass us
    return snap;
  }
  sqlite3_file* wal = OpenFileOf(source, SQLITE_FCNTL_JOURNAL_POINTER);
  if (wal == nullptr) {
    snap.fallback_reason = "no handle on the WAL";
    return snap;
  }
  Status io_error;
  if (auto bad = ReadOverlay(wal, header, &snap, &io_error)) {
    if (!io_error.ok()) return io_error;
    snap.overlay.clear();
    snap.fallback_reason = *bad;
    return snap;
  }
  snap.file_copy = true;
  return snap;
}

Status CopyPinnedSnapshot(Connection& source, const PinnedSnapshot& snap, int64_t chunk_bytes,
                          const std::function<Status(const void*, int64_t, int64_t)>& write,
                          const std::function<Status()>& after_chunk) {
  sqlite3_file* main_file = OpenFileOf(source, SQLITE_FCNTL_FILE_POINTER);
  if (main_file == nullptr) return Status::IoError("no handle on " + source.path());
  const int64_t total = snap.page_count * snap.page_size;
  sqlite3_int64 file_size = 0;
  int rc = main_file->pMethods->xFileSize(main_file, &file_size);
  if (rc != SQLITE_OK) return StatusFromSqlite(rc, "size of " + source.path());
  const int64_t from_main = std::min<int64_t>(file_size, total) / snap.page_size * snap.page_size;
  // Pages past the end of the main file exist only in the WAL: all must be in the overlay.
  const auto first_missing = static_cast<uint32_t>(from_main / snap.page_size) + 1;
  auto missing_from = std::lower_bound(snap.overlay.begin(), snap.overlay.end(),
                                       std::make_pair(first_missing, uint32_t{0}));
  if (snap.overlay.end() - missing_from != snap.page_count - (first_missing - 1)) {
    return Status::IoError(source.path() + " and its WAL do not hold every page of the snapshot");
  }

  const int64_t step = std::max(snap.page_size, chunk_bytes / snap.page_size * snap.page_size);
  std::vector<unsigned char> buf(static_cast<size_t>(step));
  for (int64_t offset = 0; offset < from_main; offset += step) {
    int64_t n = std::min(step, from_main - offset);
    MAINTD_RETURN_IF_ERROR(ReadAt(main_file, buf.data(), n, offset, source.path()));
    MAINTD_RETURN_IF_ERROR(write(buf.data(), n, offset));
    MAINTD_RETURN_IF_ERROR(after_chunk());
  }
  if (snap.overlay.empty()) return Status::Ok();

  sqlite3_file* wal = OpenFileOf(source, SQLITE_FCNTL_JOURNAL_POINTER);
  if (wal == nullptr) return Status::IoError("no handle on the WAL of " + source.path());
  const int64_t frame_bytes = snap.page_size + kFrameHeaderBytes;
  int64_t since_chunk = 0;
  for (const auto& [page, frame] : snap.overlay) {
    int64_t at = kWalHeaderBytes + (int64_t{frame} - 1) * frame_bytes + kFrameHeaderBytes;
    MAINTD_RETURN_IF_ERROR(ReadAt(wal, buf.data(), snap.page_size, at, source.path() + "-wal"));
    MAINTD_RETURN_IF_ERROR(write(buf.data(), snap.page_size, (int64_t{page} - 1) * snap.page_size));
    since_chunk += snap.page_size;
    if (since_chunk >= step) {
      MAINTD_RETURN_IF_ERROR(after_chunk());
      since_chunk = 0;
    }
  }
  return after_chunk();
}

}  // namespace maintd
