#include "lib/wal/pin.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>

namespace maintd {
namespace {

std::string Slurp(const std::string& path, size_t max_bytes = 1 << 22) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  char buf[64 * 1024];
  while (in && text.size() < max_bytes) {
    in.read(buf, sizeof buf);
    text.append(buf, static_cast<size_t>(in.gcount()));
  }
  return text;
}

// argv[0] without its directory, then the arguments, space-separated; else comm.
std::string CommandOf(const std::string& proc_root, pid_t pid) {
  const std::string dir = proc_root + "/" + std::to_string(pid);
  std::string cmdline = Slurp(dir + "/cmdline", 4096);
  while (!cmdline.empty() && cmdline.back() == '\0') cmdline.pop_back();
  if (!cmdline.empty()) {
    size_t arg0_end = std::min(cmdline.find('\0'), cmdline.size());
    size_t slash = cmdline.rfind('/', arg0_end);
    if (slash != std::string::npos) cmdline.erase(0, slash + 1);
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.size() > 200) cmdline = cmdline.substr(0, 200) + "...";
    return cmdline;
  }
  std::string comm = Slurp(dir + "/comm", 64);
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm.empty() ? "?" : comm;
}

// False when no process `pid` exists (0: a holder not visible here: unknown, so false).
bool Alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

// /proc/locks lists every lock of the machine: with thousands of databases open it is
// thousands of lines. One parse serves the probes of kProcLocksReuse; a held slot whose
// holder it does not list reads it again (it may be newer than the parse).
constexpr auto kProcLocksReuse = std::chrono::milliseconds(500);

std::shared_ptr<const ProcLocksIndex> ProcLocks(const std::string& path, bool fresh) {
  static std::mutex mu;
  static std::string cached_path;  // guarded by mu, as the two below
  static std::chrono::steady_clock::time_point parsed_at;
  static std::shared_ptr<const ProcLocksIndex> cached;
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu);
    if (!fresh && cached && cached_path == path && now - parsed_at < kProcLocksReuse) {
      return cached;
    }
  }
  auto index = std::make_shared<const ProcLocksIndex>(ProcLocksIndex::Parse(Slurp(path, 64 << 20)));
  std::lock_guard lock(mu);
  cached_path = path;
  parsed_at = now;
  cached = index;
  return index;
}

}  // namespace

bool BlamedSlot(const WalIndexSnapshot& snap, int slot) {
  if (snap.state != WalIndexState::kRead || slot < 0 || slot >= kWalReadSlots) return false;
  if (slot == 0) return snap.ckpt.backfilled < snap.max_frame;
  uint32_t mark = snap.ckpt.read_marks[slot];
  return mark != kReadMarkNotUsed && mark < snap.max_frame;
}

bool ResetBlocked(const WalIndexSnapshot& snap) {
  if (snap.state != WalIndexState::kRead) return false;
  if (snap.held[0] && snap.ckpt.backfilled < snap.max_frame) return true;
  for (int slot = 1; slot < kWalReadSlots; ++slot) {
    if (snap.held[slot]) return true;
  }
  return false;
}

ProcLocksIndex ProcLocksIndex::Parse(const std::string& text) {
  // Lines: "12: POSIX  ADVISORY  READ 4242 fe:00:1234 123 123" ("12: -> ..." are waiters).
  ProcLocksIndex index;
  char line[512], kind[16], access[16], end[24];
  for (size_t at = 0; at < text.size();) {
    size_t eol = std::min(text.find('\n', at), text.size());
    size_t n = std::min(eol - at, sizeof line - 1);
    std::memcpy(line, text.data() + at, n);
    line[n] = '\0';
    at = eol + 1;
    int pid = 0;
    unsigned maj = 0, min = 0;
    unsigned long ino = 0;
    long first = 0;
    if (std::sscanf(line, "%*s %15s %*s %15s %d %x:%x:%lu %ld %23s", kind, access, &pid, &maj,
                    &min, &ino, &first, end) != 8 ||
        std::strcmp(kind, "POSIX") != 0 || std::strcmp(access, "READ") != 0) {
      continue;
    }
    long last = std::strcmp(end, "EOF") == 0 ? std::numeric_limits<long>::max()
                                             : std::strtol(end, nullptr, 10);
    for (int slot = 0; slot < kWalReadSlots; ++slot) {
      long byte = kShmReadLockByte + slot;
      if (byte >= first && byte <= last) {
        index.by_inode_[ino].push_back({maj, min, slot, pid > 0 ? static_cast<pid_t>(pid) : 0});
      }
    }
  }
  return index;
}

ShmReadLocks ProcLocksIndex::Lookup(unsigned dev_major, unsigned dev_minor,
                                    unsigned long inode) const {
  ShmReadLocks exact, same_inode;
  auto it = by_inode_.find(inode);
  if (it != by_inode_.end()) {
    for (const Entry& e : it->second) {
      same_inode.readers[e.slot].push_back(e.pid);
      if (e.major == dev_major && e.minor == dev_minor) exact.readers[e.slot].push_back(e.pid);
    }
  }
  bool any_exact = false;
  for (auto& r : exact.readers) any_exact = any_exact || !r.empty();
  ShmReadLocks out = any_exact ? exact : same_inode;
  for (auto& r : out.readers) {
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
  }
  return out;
}

ShmReadLocks ParseProcLocks(const std::string& text, unsigned dev_major, unsigned dev_minor,
                            unsigned long inode) {
  return ProcLocksIndex::Parse(text).Lookup(dev_major, dev_minor, inode);
}

Result<WalPinProbe> ProbeWalPins(Connection& conn, const PinProbeOptions& options) {
  WalPinProbe probe;
  auto wal = ReadWalIndex(conn);
  if (!wal.ok()) return wal.status();
  probe.wal = std::move(wal).value();
  bool any_blamed = false;
  for (int slot = 0; slot < kWalReadSlots; ++slot) {
    any_blamed = any_blamed || (probe.wal.held[slot] && BlamedSlot(probe.wal, slot));
  }
  if (!any_blamed) return probe;

  const pid_t self = options.self > 0 ? options.self : getpid();
  ShmReadLocks locks;
  struct stat st {};
  if (::stat((conn.path() + "-shm").c_str(), &st) == 0) {  // stat only: never open() it
    auto lookup = [&](bool fresh) {
      return ProcLocks(options.proc_locks, fresh)
          ->Lookup(major(st.st_dev), minor(st.st_dev), static_cast<unsigned long>(st.st_ino));
    };
    // A parse of the last half second serves when it names a live holder for every held,
    // blamed slot; otherwise it may predate this reader (or name one that has gone, or a
    // file whose inode this one reuses): read /proc/locks again.
    locks = lookup(false);
    for (int slot = 0; slot < kWalReadSlots; ++slot) {
      if (!probe.wal.held[slot] || !BlamedSlot(probe.wal, slot)) continue;
      const auto& pids = locks.readers[slot];
      if (pids.empty() || std::any_of(pids.begin(), pids.end(), [](pid_t p) { return !Alive(p); })) {
        locks = lookup(true);
        break;
      }
    }
  }
  for (int slot = 0; slot < kWalReadSlots; ++slot) {
    if (!probe.wal.held[slot] || !BlamedSlot(probe.wal, slot)) continue;
    std::vector<pid_t> pids = locks.readers[slot];
    // Held at the probe but no holder listed: it may have let go meanwhile. Probe again.
    if (pids.empty() && !ReadSlotHeld(conn, slot)) continue;
    bool ours = std::find(pids.begin(), pids.end(), self) != pids.end();
    pids.erase(std::remove(pids.begin(), pids.end(), self), pids.end());
    if (ours && pids.empty()) {
      ++probe.own_slots;
      continue;
    }
    if (pids.empty()) pids.push_back(0);  // held by someone we cannot see
    for (pid_t pid : pids) {
      WalReader r;
      r.slot = slot;
      r.read_mark = slot == 0 ? 0 : probe.wal.ckpt.read_marks[slot];
      r.pid = pid;
      r.command = pid > 0 ? CommandOf(options.proc_root, pid) : "";
      r.blocks_backfill = true;
      r.blocks_reset = slot >= 1;
      probe.readers.push_back(std::move(r));
    }
  }
  std::stable_sort(probe.readers.begin(), probe.readers.end(),
                   [](const WalReader& a, const WalReader& b) {
                     return std::make_pair(a.slot != 0, a.read_mark) <
                            std::make_pair(b.slot != 0, b.read_mark);
                   });
  return probe;
}

std::string DescribeReader(const WalReader& r) {
  if (!r.visible()) return "pid not visible (slot " + std::to_string(r.slot) + ")";
  return "pid " + std::to_string(r.pid) + " (" + r.command + ")";
}

}  // namespace maintd
