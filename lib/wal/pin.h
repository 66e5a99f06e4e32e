#pragma once
// Who pins the WAL: the readers whose read transactions keep a checkpoint from copying the
// log back into the database (backfill) or from resetting it, so the WAL grows.
//
// What each read slot means (SQLite's wal.c, walCheckpoint and walRestartLog; the slot's
// lock is xShmLock index 3+i, the -shm's byte 123+i):
//   slot 0      the reader began when the whole log was backfilled and reads the database
//               file only. Backfill needs slot 0 exclusively, so a slot-0 reader blocks
//               ALL backfill while nBackfill < mxFrame.
//   slots 1-4   the reader's snapshot ends at frame aReadMark[i]. Backfill stops at the
//               smallest mark of a held slot, so it blocks backfill past aReadMark[i] while
//               aReadMark[i] < mxFrame, and the log's reset (RESTART/TRUNCATE and a
//               writer's restart need slots 1-4 free) for as long as it reads.
//
// The blame rule (BlamedSlot): a held slot is a pin, and its holders are reported, only
// when it is what keeps frames from being checkpointed:
//   slot 0:     nBackfill < mxFrame
//   slot i>=1:  aReadMark[i] < mxFrame
// A reader whose snapshot is the newest frame (mark == mxFrame) costs nothing yet: it is
// not blamed (it becomes a pin with the next commit). Our own process is never blamed (the
// daemon's backup snapshot, a health check's read). A held slot whose holder /proc/locks
// does not show (a process in another PID namespace) is still a pin: "pid not visible".
//
// Holders come from /proc/locks (no descriptor needed: opening the -shm ourselves would
// drop our own POSIX locks on it): `POSIX ADVISORY READ <pid> <maj>:<min>:<inode> <123+i>
// <123+i>`, matched by the -shm's inode (and device when it matches: overlay and btrfs
// report another st_dev than /proc/locks). It is read only when a held slot is blamed, and
// one parse serves the probes of half a second (a held slot it does not list reads it
// again), so a round over thousands of pinned databases reads it a few times, not each time.

#include <sys/types.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/core/status.h"
#include "lib/sqlite/connection.h"
#include "lib/wal/wal_index.h"

namespace maintd {

inline constexpr int kShmReadLockByte = 123;  // the -shm byte of read slot 0 (120 + 3)

// True when a holder of read slot `slot` keeps frames of `snap` from being checkpointed.
bool BlamedSlot(const WalIndexSnapshot& snap, int slot);
// True when a TRUNCATE (or RESTART) checkpoint could only wait and give up: a reader holds
// a slot 1-4, or slot 0 while frames wait for backfill.
bool ResetBlocked(const WalIndexSnapshot& snap);

// Processes holding POSIX read locks on the read-slot bytes of the file with this device and
// inode, from a /proc/locks text. readers[i]: the pids on slot i (sorted, unique; 0 when the
// kernel shows the lock without a visible pid).
struct ShmReadLocks {
  std::vector<pid_t> readers[kWalReadSlots];
};
// /proc/locks' POSIX read locks on read-slot bytes (123-127), by inode: parsed once, looked
// up for each database (one machine-wide file serves every probe).
class ProcLocksIndex {
 public:
  static ProcLocksIndex Parse(const std::string& text);
  ShmReadLocks Lookup(unsigned dev_major, unsigned dev_minor, unsigned long inode) const;

 private:
  struct Entry {
    unsigned major, minor;
    int slot;
    pid_t pid;
  };
  std::unordered_map<unsigned long, std::vector<Entry>> by_inode_;
};
ShmReadLocks ParseProcLocks(const std::string& text, unsigned dev_major, unsigned dev_minor,
                            unsigned long inode);

struct WalReader {
  int slot = 0;
  uint32_t read_mark = 0;  // aReadMark[slot] (slot 0: 0, it reads the database file)
  pid_t pid = 0;           // 0: held, but the holder's pid is not visible here
  std::string command;     // /proc/PID/cmdline (argv[0] without its directory), else comm
  bool blocks_backfill = false;
  bool blocks_reset = false;
  bool visible() const { return pid > 0; }
};

struct WalPinProbe {
  WalIndexSnapshot wal;
  // Blamed readers (the rule above), the one holding back the most frames first: slot 0,
  // then by read mark; one entry per (pid, slot).
  std::vector<WalReader> readers;
  int own_slots = 0;  // held slots whose holder is this process only: never blamed
};

struct PinProbeOptions {
  std::string proc_locks = "/proc/locks";  // injectable for tests
  std::string proc_root = "/proc";         // for /proc/PID/comm and cmdline
  pid_t self = 0;                          // 0: getpid()
};

// ReadWalIndex(conn) and, for held slots that the rule blames, their holders. Non-WAL and
// no-shared-memory databases come back with no readers (wal.state says which).
Result<WalPinProbe> ProbeWalPins(Connection& conn, const PinProbeOptions& options = {});

// "pid 4242 (python3 worker.py)" or "pid not visible (slot 2)".
std::string DescribeReader(const WalReader& r);
// What to do when a holder's pid is not visible.
inline constexpr const char* kPidNotVisibleHint =
    "the reader runs in another PID namespace (a container or a Kubernetes sidecar): run the "
    "daemon in the same PID namespace (Kubernetes: shareProcessNamespace: true in the pod spec; "
    "docker: --pid=container:<app>) to see its pid and command";

}  // namespace maintd
