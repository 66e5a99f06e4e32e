#pragma once
// The wal-index (the `-shm`) of a WAL database, read the way SQLite's own checkpointer sees
// it: through a connection's own file handle (SQLITE_FCNTL_FILE_POINTER, then the VFS's
// xShmMap / xShmLock), never with a descriptor of ours. A plain open()/close() of the
// `-shm` would drop every POSIX lock this process holds on it (SQLITE_FACTS.md, "Who pins
// the WAL").
//
// Layout (SQLite's wal.c, fileformat2.html), native byte order, region 0 of the -shm:
//   0-47    WalIndexHdr (mxFrame at 16, nPage at 20, salts at 32), repeated at 48-95
//   96      WalCkptInfo: nBackfill, aReadMark[0..4] (100-119), aLock[8] (120-127),
//           nBackfillAttempted (128)
// Read-slot locks (xShmLock index 3+i, the -shm's byte 123+i): a reader holds slot i shared
// for its whole read transaction; its snapshot ends at frame aReadMark[i] (slot 0: it reads
// the database file only, the WAL having been fully backfilled when it began).

#include <array>
#include <cstdint>
#include <string>

#include "lib/core/status.h"
#include "lib/sqlite/connection.h"

namespace maintd {

inline constexpr int kWalReadSlots = 5;          // WAL_NREADER
inline constexpr uint32_t kReadMarkNotUsed = 0xffffffff;  // READMARK_NOT_USED

// The -shm's first region as SQLite keeps it. One consistent copy of the header (SQLite's
// two copies matched when read).
struct WalIndexHeader {
  uint32_t version;
  uint32_t unused;
  uint32_t change;
  uint8_t is_init;
  uint8_t big_end_cksum;
  uint16_t page_size;  // 1 means 65536
  uint32_t max_frame;
  uint32_t n_page;
  uint32_t frame_cksum[2];
  uint8_t salt[8];
  uint32_t cksum[2];
};
static_assert(sizeof(WalIndexHeader) == 48, "SQLite's WalIndexHdr is 48 bytes");

struct WalCheckpointInfo {
  uint32_t backfilled = 0;            // nBackfill: frames copied into the database file
  std::array<uint32_t, kWalReadSlots> read_marks{};  // aReadMark[i]
  uint32_t backfill_attempted = 0;    // nBackfillAttempted
};

// Reads the header and the checkpoint info from the mapped region 0 of `main_file`'s
// wal-index (a sqlite3_file* of SQLITE_FCNTL_FILE_POINTER, passed as void* to keep
// sqlite3.h out of this header). Returns a reason when it cannot be read ("" when read).
std::string ReadWalIndexRegion(void* main_file, WalIndexHeader* header, WalCheckpointInfo* info);

enum class WalIndexState {
  kRead,            // figures below are valid
  kNotWal,          // journal_mode is not wal
  kNoSharedMemory,  // WAL without a -shm (locking_mode=EXCLUSIVE) or a VFS without xShmMap
};

struct WalIndexSnapshot {
  WalIndexState state = WalIndexState::kNotWal;
  std::string reason;  // why not kRead
  int64_t page_size = 0;
  uint32_t max_frame = 0;  // frames in the log (mxFrame)
  uint32_t n_page = 0;     // database size in pages after the last commit
  uint64_t salts = 0;      // both salts; a change means the log was reset (restarted)
  WalCheckpointInfo ckpt;
  // Read slot i is held (shared) by some connection, of any process, ours included:
  // probed with xShmLock(3+i, EXCLUSIVE) and released at once, as SQLite's checkpointer does.
  std::array<bool, kWalReadSlots> held{};
  int64_t wal_bytes = 0;  // size of the -wal file
};

// Reads the wal-index of `conn`'s main database and probes its read slots. `conn` must not
// be inside a transaction (its own read lock would count as a reader). Cost: one
// `PRAGMA journal_mode`, one `PRAGMA schema_version` (opens the WAL), five lock probes.
Result<WalIndexSnapshot> ReadWalIndex(Connection& conn);

// Probes read slot `slot` (0-4) again: true when someone holds it.
bool ReadSlotHeld(Connection& conn, int slot);

}  // namespace maintd
