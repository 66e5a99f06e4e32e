#include "lib/vacuum/full.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "lib/core/units.h"
#include "lib/sqlite/statement.h"
#include "lib/vacuum/post_checkpoint.h"

namespace maintd {
namespace {

// Device of a directory, -1 when it cannot be stat'ed.
int64_t DeviceOf(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_dev);
}

}  // namespace

Status CheckFullVacuumAllowed(const std::string& db_path, const DbStats& stats,
                              const FullVacuumOptions& o, std::vector<DiskCheck>* checks) {
  bool in_place = o.into.empty();
  if (in_place && stats.litestream) {
    return Status::Refused(
        "full VACUUM refused: " + db_path +
        " is managed by Litestream (_litestream_seq table); an in-place VACUUM would break "
        "its replication (VACUUM INTO a copy is allowed)");
  }
  if (!in_place && FileExists(o.into)) {
    return Status::InvalidArgument("VACUUM INTO target " + o.into + " already exists");
  }
  const int64_t size = stats.file_size + stats.wal_size;
  const auto needed = static_cast<int64_t>(std::ceil(std::max(0.0, o.min_free_disk_factor) * size));
  std::vector<std::string> dirs = {DirName(in_place ? db_path : o.into),
                                   o.temp_dir.empty() ? SqliteTempDir() : o.temp_dir};
  std::vector<DiskCheck> local;
  std::vector<DiskCheck>& out = checks ? *checks : local;
  out.clear();
  std::vector<int64_t> seen;
  for (const std::string& dir : dirs) {
    int64_t dev = DeviceOf(dir);
    if (dev >= 0 && std::find(seen.begin(), seen.end(), dev) != seen.end()) continue;
    seen.push_back(dev);
    auto space = ReadDiskSpace(dir);
    if (!space.ok()) return space.status();
    out.push_back({dir, space->free_bytes, needed});
  }
  for (const DiskCheck& c : out) {
    if (!c.ok()) {
      return Status::Refused("full VACUUM refused: " + c.dir + " has " + FormatSize(c.free_bytes) +
                             " free, needs " + FormatSize(c.needed_bytes) +
                             " (min_free_disk_factor " + std::to_string(o.min_free_disk_factor) +
                             " x database size " + FormatSize(size) + ")");
    }
  }
  return Status::Ok();
}

FullVacuumOutcome RunFullVacuum(Connection& conn, const FullVacuumOptions& o, StopToken& stop,
                                const Clock& clock) {
  auto start = std::chrono::steady_clock::now();
  FullVacuumOutcome out;
  auto stats = ReadDbStats(conn);
  if (!stats.ok()) {
    out.status = stats.status();
    return out;
  }
  out.page_size = stats->page_size;
  out.pages_before = stats->page_count;
  out.freelist_before = stats->freelist_count;
  out.bytes_before = stats->file_size;
  out.status = CheckFullVacuumAllowed(conn.path(), *stats, o);
  if (!out.status.ok()) return out;
  if (stop.stop_requested()) {
    out.status = Status::Interrupted("stop requested before full VACUUM");
    return out;
  }
  bool in_place = o.into.empty();
  bool wal = stats->journal_mode == "wal";
  out.started = true;
  ReportProgress(o.progress, in_place ? "full_vacuum" : "vacuum_into", 0, 0, "pages");
  if (in_place) {
    if (o.convert_to_incremental) {
      out.status = conn.Exec("PRAGMA auto_vacuum=INCREMENTAL");
    }
    if (out.status.ok()) out.status = conn.Exec("VACUUM");
  } else {
    auto stmt = conn.Prepare("VACUUM INTO ?1");
    if (!stmt.ok()) {
      out.status = stmt.status();
    } else {
      stmt->Bind(1, o.into);
      auto done = stmt->StepUntilDone();
      if (!done.ok()) out.status = done.status();
    }
  }
  if (in_place && wal && out.status.ok() && !stop.aborted()) {
    ReportProgress(o.progress, "checkpoint", 0, 0, "pages");
    auto ck = CheckpointAfterVacuum(conn, o.checkpoint_wait, stop, clock);
    out.checkpoint_busy = !ck.ok() || ck->busy;
  }
  if (in_place) {
    auto after = ReadDbStats(conn);
    if (after.ok()) {
      out.pages_after = after->page_count;
      out.freelist_after = after->freelist_count;
      out.auto_vacuum_after = after->auto_vacuum;
      out.bytes_after = after->file_size;
    }
  } else if (out.status.ok()) {
    auto copy = Connection::Open(o.into, OpenOptions{.read_only = true});
    if (copy.ok()) {
      auto s = ReadDbStats(*copy);
      if (s.ok()) {
        out.pages_after = s->page_count;
        out.freelist_after = s->freelist_count;
        out.auto_vacuum_after = s->auto_vacuum;
      }
    }
    out.bytes_after = FileSize(o.into);
  }
  if (!out.status.ok() && !in_place) {
    // A failed VACUUM INTO may leave a partial target behind.
    ::unlink(o.into.c_str());
  }
  out.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  return out;
}

}  // namespace maintd
