#include "lib/wal/pin.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace maintd {
namespace {

std::string Slurp(const std::string& path, size_t max_bytes = 1 << 22) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string text(max_bytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(max_bytes));
  text.resize(static_cast<size_t>(in.gcount()));
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

ShmReadLocks ParseProcLocks(const std::string& text, unsigned dev_major, unsigned dev_minor,
                            unsigned long inode) {
  // Lines: "12: POSIX  ADVISORY  READ 4242 fe:00:1234 123 123" ("->" lines are waiters).
  ShmReadLocks exact, same_inode;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string id, kind, advisory, access, pid_text, file, start, end;
    f >> id >> kind;
    if (kind == "->" || kind != "POSIX") continue;
    if (!(f >> advisory >> access >> pid_text >> file >> start >> end)) continue;
    if (access != "READ") continue;
    unsigned maj = 0, min = 0;
    unsigned long ino = 0;
    if (std::sscanf(file.c_str(), "%x:%x:%lu", &maj, &min, &ino) != 3 || ino != inode) continue;
    long first = 0, last = 0;
    try {
      first = std::stol(start);
      last = end == "EOF" ? first + kWalReadSlots : std::stol(end);
    } catch (...) {
      continue;
    }
    pid_t pid = 0;
    try {
      pid = static_cast<pid_t>(std::stol(pid_text));
    } catch (...) {
    }
    if (pid < 0) pid = 0;
    for (int slot = 0; slot < kWalReadSlots; ++slot) {
      long byte = kShmReadLockByte + slot;
      if (byte < first || byte > last) continue;
      same_inode.readers[slot].push_back(pid);
      if (maj == dev_major && min == dev_minor) exact.readers[slot].push_back(pid);
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
    locks = ParseProcLocks(Slurp(options.proc_locks), major(st.st_dev), minor(st.st_dev),
                           static_cast<unsigned long>(st.st_ino));
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
