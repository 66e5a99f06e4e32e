#include "tests/support/faulty_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace maintd::test {
namespace {

// The plan in force. `armed` is read on every call without the mutex (fast path); the
// rest of the plan is read under it.
std::atomic<bool> g_armed{false};
std::mutex g_mu;
FaultPlan g_plan;
std::atomic<int64_t> g_bytes{0};
std::atomic<int64_t> g_syncs{0};
std::atomic<int64_t> g_faults{0};

sqlite3_vfs* g_real = nullptr;  // the "unix" VFS
sqlite3_vfs g_vfs;              // ours

// Our file: SQLite allocates g_vfs.szOsFile bytes; the real VFS's file lives right after
// this struct in the same block.
struct FaultyFile {
  sqlite3_file base;   // must be first
  sqlite3_file* real;  // == (this + 1), the wrapped file
  const char* name;    // valid until xClose (SQLite's guarantee); null for temp files
};

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<FaultyFile*>(f)->real; }

bool Matches(sqlite3_file* f, FaultPlan* plan) {
  if (!g_armed.load()) return false;
  std::lock_guard lock(g_mu);
  if (g_plan.kind == FaultKind::kNone) return false;
  const char* name = reinterpret_cast<FaultyFile*>(f)->name;
  if (!g_plan.path_filter.empty() &&
      (name == nullptr || std::strstr(name, g_plan.path_filter.c_str()) == nullptr)) {
    return false;
  }
  *plan = g_plan;
  return true;
}

int Close(sqlite3_file* f) {
  sqlite3_file* r = Real(f);
  return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
}

int Read(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xRead(r, buf, amt, off);
}

int Write(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  sqlite3_file* r = Real(f);
  FaultPlan plan;
  if (Matches(f, &plan)) {
    bool over = g_bytes.load() + amt > plan.after_bytes;
    if (over && plan.kind == FaultKind::kWriteError) {
      ++g_faults;
      return SQLITE_IOERR_WRITE;
    }
    if (over && plan.kind == FaultKind::kDiskFull) {
      // A full disk refuses new blocks: writes that extend the file fail, rewrites of
      // bytes the file already has (a rollback putting pages back) still succeed.
      sqlite3_int64 size = 0;
      if (r->pMethods->xFileSize(r, &size) != SQLITE_OK || off + amt > size) {
        ++g_faults;
        return SQLITE_FULL;
      }
    }
    g_bytes += amt;
  }
  return r->pMethods->xWrite(r, buf, amt, off);
}

int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xTruncate(r, size);
}

int Sync(sqlite3_file* f, int flags) {
  FaultPlan plan;
  if (Matches(f, &plan)) {
    int64_t n = ++g_syncs;
    if (plan.kind == FaultKind::kSyncError && n >= plan.nth_sync) {
      ++g_faults;
      return SQLITE_IOERR_FSYNC;
    }
  }
  sqlite3_file* r = Real(f);
  return r->pMethods->xSync(r, flags);
}

int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xFileSize(r, size);
}
int Lock(sqlite3_file* f, int level) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xLock(r, level);
}
int Unlock(sqlite3_file* f, int level) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xUnlock(r, level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xCheckReservedLock(r, out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  sqlite3_file* r = Real(f);
  // SQLite announces growth (e.g. before a checkpoint) with a size hint, which the unix VFS
  // may turn into ftruncate(): a sparse extension that a full disk would still refuse to
  // fill. Refuse it here, so the writes that follow extend the file and meet the fault.
  FaultPlan plan;
  if (op == SQLITE_FCNTL_SIZE_HINT && Matches(f, &plan) && plan.kind == FaultKind::kDiskFull &&
      g_bytes.load() >= plan.after_bytes) {
    sqlite3_int64 size = 0;
    if (r->pMethods->xFileSize(r, &size) == SQLITE_OK && *static_cast<sqlite3_int64*>(arg) > size) {
      ++g_faults;
      return SQLITE_FULL;
    }
  }
  return r->pMethods->xFileControl(r, op, arg);
}
int SectorSize(sqlite3_file* f) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xSectorSize(r);
}
int DeviceCharacteristics(sqlite3_file* f) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xDeviceCharacteristics(r);
}
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** pp) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xShmMap(r, region, size, extend, pp);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xShmLock(r, offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) {
  sqlite3_file* r = Real(f);
  r->pMethods->xShmBarrier(r);
}
int ShmUnmap(sqlite3_file* f, int del) {
  sqlite3_file* r = Real(f);
  return r->pMethods->xShmUnmap(r, del);
}
int Fetch(sqlite3_file* f, sqlite3_int64 off, int amt, void** pp) {
  sqlite3_file* r = Real(f);
  if (r->pMethods->iVersion < 3) {
    *pp = nullptr;
    return SQLITE_OK;
  }
  return r->pMethods->xFetch(r, off, amt, pp);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  sqlite3_file* r = Real(f);
  if (r->pMethods->iVersion < 3) return SQLITE_OK;
  return r->pMethods->xUnfetch(r, off, p);
}

// Version 3 methods for wrapped files whose real methods are version 3 (the unix VFS's
// regular files), version 1 for the rest (no shared memory, no mmap).
const sqlite3_io_methods kMethodsV3 = {3,
                                       Close,
                                       Read,
                                       Write,
                                       Truncate,
                                       Sync,
                                       FileSize,
                                       Lock,
                                       Unlock,
                                       CheckReservedLock,
                                       FileControl,
                                       SectorSize,
                                       DeviceCharacteristics,
                                       ShmMap,
                                       ShmLock,
                                       ShmBarrier,
                                       ShmUnmap,
                                       Fetch,
                                       Unfetch};
const sqlite3_io_methods kMethodsV1 = {1,
                                       Close,
                                       Read,
                                       Write,
                                       Truncate,
                                       Sync,
                                       FileSize,
                                       Lock,
                                       Unlock,
                                       CheckReservedLock,
                                       FileControl,
                                       SectorSize,
                                       DeviceCharacteristics,
                                       nullptr,
                                       nullptr,
                                       nullptr,
                                       nullptr,
                                       nullptr,
                                       nullptr};

int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  auto* ff = reinterpret_cast<FaultyFile*>(file);
  ff->real = reinterpret_cast<sqlite3_file*>(ff + 1);
  ff->name = name;
  ff->base.pMethods = nullptr;
  int rc = g_real->xOpen(g_real, name, ff->real, flags, out_flags);
  if (ff->real->pMethods == nullptr) return rc;  // nothing to close
  ff->base.pMethods = ff->real->pMethods->iVersion >= 3 ? &kMethodsV3 : &kMethodsV1;
  return rc;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_real->xDelete(g_real, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void DlError(sqlite3_vfs*, int n, char* out) { g_real->xDlError(g_real, n, out); }
void (*DlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return g_real->xDlSym(g_real, h, sym);
}
void DlClose(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int Randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int Sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int CurrentTime(sqlite3_vfs*, double* t) { return g_real->xCurrentTime(g_real, t); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return g_real->xGetLastError ? g_real->xGetLastError(g_real, n, out) : 0;
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* t) {
  return g_real->xCurrentTimeInt64(g_real, t);
}
int SetSystemCall(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr p) {
  return g_real->xSetSystemCall(g_real, name, p);
}
sqlite3_syscall_ptr GetSystemCall(sqlite3_vfs*, const char* name) {
  return g_real->xGetSystemCall(g_real, name);
}
const char* NextSystemCall(sqlite3_vfs*, const char* name) {
  return g_real->xNextSystemCall(g_real, name);
}

}  // namespace

bool FaultyVfs::Install() {
  static const bool installed = [] {
    g_real = sqlite3_vfs_find("unix");
    if (g_real == nullptr || g_real->iVersion < 3) return false;
    std::memset(&g_vfs, 0, sizeof g_vfs);
    g_vfs.iVersion = 3;
    g_vfs.szOsFile = static_cast<int>(sizeof(FaultyFile)) + g_real->szOsFile;
    g_vfs.mxPathname = g_real->mxPathname;
    g_vfs.zName = "faulty";
    g_vfs.xOpen = Open;
    g_vfs.xDelete = Delete;
    g_vfs.xAccess = Access;
    g_vfs.xFullPathname = FullPathname;
    g_vfs.xDlOpen = DlOpen;
    g_vfs.xDlError = DlError;
    g_vfs.xDlSym = DlSym;
    g_vfs.xDlClose = DlClose;
    g_vfs.xRandomness = Randomness;
    g_vfs.xSleep = Sleep;
    g_vfs.xCurrentTime = CurrentTime;
    g_vfs.xGetLastError = GetLastError;
    g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    g_vfs.xSetSystemCall = SetSystemCall;
    g_vfs.xGetSystemCall = GetSystemCall;
    g_vfs.xNextSystemCall = NextSystemCall;
    return sqlite3_vfs_register(&g_vfs, 1) == SQLITE_OK;
  }();
  return installed;
}

void FaultyVfs::Arm(const FaultPlan& plan) {
  std::lock_guard lock(g_mu);
  g_plan = plan;
  g_bytes = 0;
  g_syncs = 0;
  g_faults = 0;
  g_armed = plan.kind != FaultKind::kNone;
}

void FaultyVfs::Disarm() {
  std::lock_guard lock(g_mu);
  g_armed = false;
  g_plan = FaultPlan{};
}

int64_t FaultyVfs::bytes_written() { return g_bytes.load(); }
int64_t FaultyVfs::syncs() { return g_syncs.load(); }
int64_t FaultyVfs::faults_injected() { return g_faults.load(); }

const char* ToString(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone:
      return "none";
    case FaultKind::kDiskFull:
      return "SQLITE_FULL";
    case FaultKind::kWriteError:
      return "SQLITE_IOERR_WRITE";
    case FaultKind::kSyncError:
      return "SQLITE_IOERR_FSYNC";
  }
  return "?";
}

}  // namespace maintd::test
