#include "daemon/status_database.h"

#include <algorithm>
#include <optional>

#include "daemon/status_running.h"
#include "lib/core/maintainer_lock.h"
#include "lib/core/units.h"
#include "lib/inspect/db_stats.h"
#include "lib/inspect/resting_database.h"
#include "lib/jobs/integrity_gate.h"
#include "lib/wal/pin.h"

namespace maintd {

namespace {

// What is known of the database's integrity, without reading the whole file: the integrity
// gate's note in the maintainer lock file (a database found corrupt, which nothing may be
// written into, jobs/integrity_gate.h), else the newest quick_check / integrity_check row.
nlohmann::json IntegrityStatus(const std::string& lock_note, const nlohmann::json& jobs) {
  if (auto noted = ParseIntegrityNote(lock_note)) {
    std::string at = FormatSqliteUtc(noted->at);
    return {{"status", "critical"}, {"at", at}, {"problem", noted->problem},
            {"source", "lock file note"}};
  }
  const nlohmann::json* newest = nullptr;
  for (const char* type : {"quick_check", "integrity_check"}) {
    if (!jobs.contains(type)) continue;
    const nlohmann::json& o = jobs[type];
    if (newest == nullptr || o["at"].get<std::string>() > (*newest)["at"].get<std::string>()) {
      newest = &o;
    }
  }
  if (newest == nullptr) return {{"status", "unknown"}};
  return {{"status", (*newest)["status"]}, {"at", (*newest)["at"]}, {"source", "journal"}};
}

// How long the daemon has seen `r` pin the WAL: from its newest wal_pin or checkpoint row
// naming the same pin (pid, slot, read mark) plus the time since; nullopt: seen now.
std::optional<int64_t> PinSecondsFromJournal(const nlohmann::json& jobs, const WalReader& r,
                                             SystemTime now) {
  std::optional<int64_t> best;
  for (const char* type : {"wal_pin", "checkpoint"}) {
    if (!jobs.contains(type)) continue;
    const nlohmann::json& row = jobs[type];
    const nlohmann::json& d = row["details"];
    const nlohmann::json* readers = d.contains("readers")                                 ? &d["readers"]
                                    : d.contains("wal") && d["wal"].contains("readers") ? &d["wal"]["readers"]
                                                                                        : nullptr;
    auto at = ParseSqliteUtc(row["at"].get<std::string>());
    if (readers == nullptr || !readers->is_array() || !at.ok()) continue;
    for (const nlohmann::json& x : *readers) {
      if (x.value("slot", -1) != r.slot || x.value("read_mark", -1LL) != int64_t{r.read_mark} ||
          (x["pid"].is_number() ? x["pid"].get<pid_t>() : 0) != r.pid) {
        continue;
      }
      auto since = std::chrono::duration_cast<std::chrono::seconds>(now - *at);
      int64_t seconds = x.value("seconds", int64_t{0}) + std::max<int64_t>(0, since.count());
      best = std::max(best.value_or(0), seconds);
    }
  }
  return best;
}

// The "wal" object: figures of the wal-index and the readers that pin it.
nlohmann::json WalStatus(Connection& conn, const nlohmann::json& jobs, SystemTime now) {
  auto probe = ProbeWalPins(conn);
  if (!probe.ok()) return {{"error", probe.status().ToString()}};
  const WalIndexSnapshot& wal = probe->wal;
  if (wal.state != WalIndexState::kRead) return {{"shared_memory", false}, {"note", wal.reason}};
  nlohmann::json readers = nlohmann::json::array();
  for (const WalReader& r : probe->readers) {
    auto seconds = PinSecondsFromJournal(jobs, r, now);
    nlohmann::json x = {{"pid", r.pid > 0 ? nlohmann::json(r.pid) : nlohmann::json()},
                        {"command", r.command},
                        {"slot", r.slot},
                        {"read_mark", r.read_mark},
                        {"seconds", seconds.value_or(0)}};
    if (!seconds) x["seen"] = "now";
    if (!r.visible()) x["hint"] = kPidNotVisibleHint;
    readers.push_back(x);
  }
  return {{"wal_bytes", wal.wal_bytes},
          {"frames", wal.max_frame},
          {"frames_backfilled", wal.ckpt.backfilled},
          {"frames_not_checkpointed", wal.max_frame - std::min(wal.max_frame, wal.ckpt.backfilled)},
          {"readers", readers}};
}

// The "wal" object of a WAL database whose -wal is absent or empty: no frames, so no
// reader holds anything back (BlamedSlot, lib/wal/pin.h); what WalStatus reads then.
nlohmann::json EmptyWalStatus() {
  return {{"wal_bytes", 0}, {"frames", 0}, {"frames_backfilled", 0},
          {"frames_not_checkpointed", 0}, {"readers", nlohmann::json::array()}};
}

void PutStats(nlohmann::json& j, const DbStats& stats) {
  j["size"] = stats.file_size;
  j["page_size"] = stats.page_size;
  j["page_count"] = stats.page_count;
  j["freelist_count"] = stats.freelist_count;
  j["free_ratio"] = stats.free_ratio();
  j["wal_size"] = stats.wal_size;
  j["journal_mode"] = stats.journal_mode;
  j["auto_vacuum"] = AutoVacuumName(stats.auto_vacuum);
  if (stats.litestream) j["litestream"] = true;
}

// The DbStats a fresh read-only connection would report, from a header read at rest:
// PRAGMA page_count is the header's count when valid, else the file size in pages (as
// SQLite's btree does); journal_mode is "wal" or the default "delete".
DbStats StatsAtRest(const RestingDatabase& rest) {
  const DbHeader& h = rest.header;
  DbStats s;
  s.page_size = h.page_size;
  s.page_count = h.header_count_valid ? h.header_page_count : h.file_size / h.page_size;
  s.freelist_count = h.freelist_count;
  s.journal_mode = h.wal() ? "wal" : "delete";
  s.auto_vacuum = h.auto_vacuum;
  s.file_size = h.file_size;
  s.wal_size = rest.signature.wal_size;
  return s;
}

// Fills `jobs` (and j["journal_error"]) from the outcomes read.
void PutJobs(nlohmann::json& j, const Result<std::vector<LastOutcome>>& outcomes) {
  nlohmann::json jobs = nlohmann::json::object();
  if (outcomes.ok()) {
    for (const auto& o : *outcomes) {
      jobs[o.job] = {{"status", o.status}, {"at", o.at}, {"details", o.details}};
    }
  } else {
    j["journal_error"] = outcomes.status().ToString();
  }
  j["jobs"] = std::move(jobs);
}

Result<std::vector<LastOutcome>> CentralFor(const CentralOutcomes& central,
                                            const std::string& path) {
  if (!central.by_path.ok()) return central.by_path.status();
  auto it = central.by_path->find(path);
  return it == central.by_path->end() ? std::vector<LastOutcome>{} : it->second;
}

// The at-rest way; false when the database is not at rest or changed (use the other way).
bool StatusAtRest(const StatusSweep& sweep, const ResolvedDatabase& db, nlohmann::json& j) {
  auto rest = ReadIfAtRest(db.path, sweep.now);
  if (!rest) return false;
  JournalView view;
  auto unchanged = ReadWhileAtRest(db.path, *rest, [&](Connection& conn) -> Status {
    auto read = ReadJournalView(conn, db.path, sweep.job_details);
    if (!read.ok()) return read.status();
    view = std::move(*read);
    return Status::Ok();
  });
  if (!unchanged.ok() || !*unchanged) return false;
  DbStats stats = StatsAtRest(*rest);
  stats.litestream = view.litestream;
  PutStats(j, stats);
  if (sweep.config->journal == "target") {
    PutJobs(j, std::move(view.outcomes));
  } else {
    PutJobs(j, CentralFor(sweep.central, db.path));
  }
  if (stats.journal_mode == "wal") j["wal"] = EmptyWalStatus();
  return true;
}

// The connection way: everything through a read-only connection.
void StatusThroughConnection(const StatusSweep& sweep, const ResolvedDatabase& db,
                             nlohmann::json& j) {
  OpenOptions ro;
  ro.read_only = true;
  ro.busy_timeout = db.policy.busy_timeout;
  auto conn = Connection::Open(db.path, ro);
  if (!conn.ok()) {
    j["error"] = conn.status().ToString();
    return;
  }
  auto stats = ReadDbStats(*conn);
  if (!stats.ok()) {
    j["error"] = stats.status().ToString();
    return;
  }
  PutStats(j, *stats);
  if (sweep.config->journal == "target") {
    PutJobs(j, ReadLastOutcomes(*conn, db.path));  // with details: WalStatus reads them
  } else {
    PutJobs(j, CentralFor(sweep.central, db.path));
  }
  if (stats->journal_mode == "wal") j["wal"] = WalStatus(*conn, j["jobs"], sweep.now);
}

}  // namespace

nlohmann::json DatabaseStatus(const StatusSweep& sweep, const ResolvedDatabase& db) {
  nlohmann::json j = {{"name", db.name}, {"path", db.path}};
  // The lock file once: the integrity note and the running job's activity line.
  const MaintainerLock::Content lock = MaintainerLock::Read(db.path, sweep.config->lock_dir);
  j["running"] = RunningStatus(lock, sweep.now);
  if (!StatusAtRest(sweep, db, j)) StatusThroughConnection(sweep, db, j);
  j["integrity"] = IntegrityStatus(lock.note, j.contains("jobs") ? j["jobs"] : nlohmann::json::object());
  return j;
}

}  // namespace maintd
