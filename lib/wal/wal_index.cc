#include "lib/wal/wal_index.h"

#include <sqlite3.h>

#include <atomic>
#include <cstring>

#include "lib/inspect/db_stats.h"

namespace maintd {
namespace {

constexpr int kShmRegionBytes = 32768;  // SQLite's WALINDEX_PGSZ
constexpr uint32_t kWalIndexVersion = 3007000;
constexpr int kCkptInfoOffset = 96;     // after the two header copies
constexpr int kBackfillAttemptedOffset = 128;
constexpr int kFirstReadLock = 3;       // WAL_READ_LOCK(0)
constexpr int kHeaderAttempts = 10;     // a writer may be updating the header: read again

sqlite3_file* MainFile(Connection& conn) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(conn.raw(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK) {
    return nullptr;
  }
  return (file != nullptr && file->pMethods != nullptr) ? file : nullptr;
}

bool HasShm(const sqlite3_file* file) {
  return file->pMethods->iVersion >= 2 && file->pMethods->xShmMap != nullptr &&
         file->pMethods->xShmLock != nullptr;
}

// SQLITE_OK: free (taken and released at once); SQLITE_BUSY: held by someone.
int ProbeSlot(sqlite3_file* file, int slot) {
  const int lock = kFirstReadLock + slot;
  int rc = file->pMethods->xShmLock(file, lock, 1, SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE);
  if (rc == SQLITE_OK) {
    file->pMethods->xShmLock(file, lock, 1, SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE);
  }
  return rc;
}

}  // namespace

std::string ReadWalIndexRegion(void* main_file_ptr, WalIndexHeader* header,
                               WalCheckpointInfo* info) {
  auto* main_file = static_cast<sqlite3_file*>(main_file_ptr);
  if (!HasShm(main_file)) return "the VFS has no shared memory";
  volatile void* region = nullptr;
  int rc = main_file->pMethods->xShmMap(main_file, 0, kShmRegionBytes, 0, &region);
  if (rc != SQLITE_OK || region == nullptr) return "the wal-index is not mapped";
  const volatile unsigned char* shm = static_cast<const volatile unsigned char*>(region);
  unsigned char raw[kBackfillAttemptedOffset + 4];
  for (int attempt = 0; attempt < kHeaderAttempts; ++attempt) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (size_t i = 0; i < sizeof raw; ++i) raw[i] = shm[i];
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (std::memcmp(raw, raw + sizeof *header, sizeof *header) == 0) break;
    if (attempt + 1 == kHeaderAttempts) return "the wal-index header kept changing";
  }
  std::memcpy(header, raw, sizeof *header);
  if (header->is_init == 0 || header->version != kWalIndexVersion) {
    return "unexpected wal-index header";
  }
  std::memcpy(&info->backfilled, raw + kCkptInfoOffset, 4);
  std::memcpy(info->read_marks.data(), raw + kCkptInfoOffset + 4, 4 * kWalReadSlots);
  std::memcpy(&info->backfill_attempted, raw + kBackfillAttemptedOffset, 4);
  return "";
}

Result<WalIndexSnapshot> ReadWalIndex(Connection& conn) {
  WalIndexSnapshot snap;
  if (conn.InTransaction()) {
    return Status::Failed("wal-index probe refused: the connection is inside a transaction");
  }
  const std::string shm = conn.path() + "-shm", wal = conn.path() + "-wal";
  // Busy without a -shm beside a -wal: a connection in locking_mode=EXCLUSIVE keeps the
  // wal-index in its own heap and the database to itself.
  auto exclusive = [&](const Status& s) {
    if (!s.busy() || FileExists(shm) || !FileExists(wal)) return false;
    snap.state = WalIndexState::kNoSharedMemory;
    snap.wal_bytes = FileSize(wal);
    snap.reason = "no -shm: a connection in locking_mode=EXCLUSIVE has the WAL to itself";
    return true;
  };
  auto mode = conn.QueryText("PRAGMA journal_mode");
  if (!mode.ok()) {
    if (exclusive(mode.status())) return snap;
    return mode.status();
  }
  if (*mode != "wal") {
    snap.reason = "journal_mode is " + *mode;
    return snap;
  }
  snap.wal_bytes = FileSize(wal);
  // A connection that has not read the database has not opened the WAL: one read opens it.
  auto opened = conn.QueryInt("PRAGMA schema_version");
  if (!opened.ok()) {
    if (exclusive(opened.status())) return snap;
    return opened.status();
  }
  sqlite3_file* file = MainFile(conn);
  if (file == nullptr) return Status::IoError("no handle on " + conn.path());
  if (!FileExists(shm)) {
    snap.state = WalIndexState::kNoSharedMemory;
    snap.reason = "no -shm: the WAL index is in one process's heap (locking_mode=EXCLUSIVE)";
    return snap;
  }
  // Probe the slots first, then read the marks: a mark changes only under an exclusive
  // lock of its slot, so a slot found held keeps the mark read after it.
  if (HasShm(file)) {
    for (int slot = 0; slot < kWalReadSlots; ++slot) {
      snap.held[slot] = ProbeSlot(file, slot) == SQLITE_BUSY;
    }
  }
  WalIndexHeader header{};
  std::string unusable = ReadWalIndexRegion(file, &header, &snap.ckpt);
  if (!unusable.empty()) {
    snap.state = WalIndexState::kNoSharedMemory;
    snap.reason = unusable;
    snap.held = {};
    return snap;
  }
  snap.state = WalIndexState::kRead;
  snap.page_size = header.page_size == 1 ? 65536 : header.page_size;
  snap.max_frame = header.max_frame;
  snap.n_page = header.n_page;
  std::memcpy(&snap.salts, header.salt, sizeof snap.salts);
  return snap;
}

bool ReadSlotHeld(Connection& conn, int slot) {
  sqlite3_file* file = MainFile(conn);
  return file != nullptr && HasShm(file) && ProbeSlot(file, slot) == SQLITE_BUSY;
}

}  // namespace maintd
