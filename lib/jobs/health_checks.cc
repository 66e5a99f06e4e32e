#include "lib/jobs/health_checks.h"

#include <chrono>
#include <set>
#include <vector>

#include "lib/jobs/job.h"
#include "lib/sqlite/statement.h"

namespace maintd {
namespace {

// Steps `sql` and hands each row to `on_row`. Returns the first error (rows already seen
// are kept by the callback).
template <typename OnRow>
Status ForEachRow(Connection& conn, const std::string& sql, OnRow on_row) {
  auto stmt = conn.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    on_row(*stmt);
  }
}

}  // namespace

Result<IntegrityOutcome> RunIntegrityCheck(Connection& conn, bool full, int max_problems,
                                           size_t keep) {
  const std::string name = full ? "integrity_check" : "quick_check";
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> messages;
  std::set<std::string> seen;
  int64_t count = 0;
  Status s = ForEachRow(conn, "PRAGMA " + name + "(" + std::to_string(max_problems) + ")",
                        [&](Statement& st) {
                          std::string text = st.Text(0);
                          size_t begin = 0;
                          while (begin < text.size()) {
                            size_t end = text.find('\n', begin);
                            if (end == std::string::npos) end = text.size();
                            std::string line = text.substr(begin, end - begin);
                            begin = end + 1;
                            // "*** in database main ***" heads the messages of
                            // one schema; it is not a problem of its own.
                            if (line.empty() || line.rfind("*** in database ", 0) == 0) {
                              continue;
                            }
                            ++count;
                            if (messages.size() < keep && seen.insert(line).second) {
                              messages.push_back(line);
                            }
                          }
                        });
  IntegrityOutcome out;
  out.row.check_type = name;
  out.row.details["duration_ms"] = ElapsedMs(start);
  if (!s.ok()) {
    if (s.code() != StatusCode::kCorrupt) return s;
    // The file is too damaged for the check to run at all (SQLITE_CORRUPT / NOTADB).
    out.row.details["error"] = s.message();
  } else if (count == 1 && !messages.empty() && messages[0] == "ok") {
    out.row.details["result"] = "ok";
    return out;
  }
  out.corrupt = true;
  out.row.status = HealthStatus::kCritical;
  out.row.details["result"] = "corrupt";
  out.row.details["messages"] = messages;
  out.row.details["message_count"] = count;
  if (count >= max_problems) out.row.details["messages_truncated"] = true;
  return out;
}

std::string FirstProblem(const CheckRow& row) {
  const auto& d = row.details;
  if (d.contains("messages") && d["messages"].is_array() && !d["messages"].empty() &&
      d["messages"][0].is_string()) {
    return d["messages"][0].get<std::string>();
  }
  if (d.contains("error") && d["error"].is_string()) return d["error"].get<std::string>();
  return "";
}

Result<CheckRow> RunForeignKeyCheck(Connection& conn) {
  auto start = std::chrono::steady_clock::now();
  nlohmann::json first = nlohmann::json::array();
  int64_t count = 0;
  Status s = ForEachRow(conn, "PRAGMA foreign_key_check", [&](Statement& st) {
    ++count;
    if (first.size() < kMaxDetailMessages) {
      first.push_back({{"table", st.Text(0)},
                       {"rowid", st.IsNull(1) ? nlohmann::json() : nlohmann::json(st.Int(1))},
                       {"parent", st.Text(2)},
                       {"fkid", st.Int(3)}});
    }
  });
  CheckRow row{"foreign_key_check", HealthStatus::kHealthy, {}};
  row.details["duration_ms"] = ElapsedMs(start);
  row.details["violations"] = count;
  if (!s.ok()) {
    if (s.code() != StatusCode::kCorrupt) return s;
    row.status = HealthStatus::kCritical;
    row.details["error"] = s.message();
    return row;
  }
  if (count > 0) {
    row.status = HealthStatus::kWarning;
    row.details["first"] = first;
  }
  return row;
}

CheckRow FragmentationCheck(const DbStats& stats, const VacuumPolicy& vacuum,
                            const ConvertDecision* conversion) {
  CheckRow row{"fragmentation", HealthStatus::kHealthy, {}};
  auto& d = row.details;
  d["free_ratio"] = stats.free_ratio();
  d["freelist_count"] = stats.freelist_count;
  d["page_count"] = stats.page_count;
  d["page_size"] = stats.page_size;
  d["free_bytes"] = stats.freelist_count * stats.page_size;
  d["auto_vacuum"] = AutoVacuumName(stats.auto_vacuum);
  d["trigger_free_ratio"] = vacuum.trigger_free_ratio;
  bool fragmented = VacuumTriggered(vacuum, stats) && stats.freelist_count > 0;
  if (stats.auto_vacuum != 0) return row;
  d["note"] =
      "auto_vacuum is NONE: free pages are reused but the file never shrinks without a full "
      "VACUUM (vacuum.convert_auto_vacuum switches it to INCREMENTAL once)";
  if (conversion != nullptr) {
    nlohmann::json figures = conversion->Details();
    for (auto& [k, v] : figures.items()) d[k] = v;
  }
  if (!fragmented) return row;
  bool refused = conversion != nullptr && conversion->verdict == ConvertVerdict::kRefused;
  if (conversion != nullptr && conversion->will_convert()) {
    d["note"] = "auto_vacuum is NONE: the vacuum job converts it to INCREMENTAL: " +
                conversion->reason;
  } else if (vacuum.full_when_no_auto_vacuum && !refused) {
    d["note"] = "auto_vacuum is NONE: full_when_no_auto_vacuum lets the vacuum job reclaim it";
  } else {
    row.status = HealthStatus::kWarning;
    d["why"] = conversion != nullptr ? conversion->reason
                                     : "convert_auto_vacuum does not convert it";
  }
  return row;
}

CheckRow WalSizeCheck(const DbStats& stats, const HealthPolicy& health) {
  CheckRow row{"wal_size", HealthStatus::kHealthy, {}};
  row.details["wal_bytes"] = stats.wal_size;
  row.details["wal_warning"] = health.wal_warning;
  row.details["journal_mode"] = stats.journal_mode;
  if (health.wal_warning > 0 && stats.wal_size > health.wal_warning) {
    row.status = HealthStatus::kWarning;
    row.details["note"] =
        "WAL above health.wal_warning: a long-lived reader may be starving checkpoints";
  }
  return row;
}

CheckRow DbSizeCheck(int64_t db_bytes, int64_t wal_bytes, const HealthPolicy& health) {
  CheckRow row{"db_size", HealthStatus::kHealthy, {}};
  row.details["db_bytes"] = db_bytes;
  row.details["wal_bytes"] = wal_bytes;
  row.details["size_warning"] = health.size_warning;
  row.details["size_critical"] = health.size_critical;
  if (health.size_critical > 0 && db_bytes >= health.size_critical) {
    row.status = HealthStatus::kCritical;
  } else if (health.size_warning > 0 && db_bytes >= health.size_warning) {
    row.status = HealthStatus::kWarning;
  }
  return row;
}

CheckRow FreeDiskCheck(const DiskSpace& disk, int64_t db_bytes, const HealthPolicy& health,
                       const VacuumPolicy& vacuum) {
  CheckRow row{"free_disk", HealthStatus::kHealthy, {}};
  double pct = disk.free_percent();
  auto& d = row.details;
  d["free_bytes"] = disk.free_bytes;
  d["total_bytes"] = disk.total_bytes;
  d["free_percent"] = pct;
  d["free_disk_warning"] = FormatDiskThreshold(health.free_disk_warning);
  d["full_vacuum_room"] =
      static_cast<double>(disk.free_bytes) >= vacuum.min_free_disk_factor * db_bytes;
  const DiskThreshold& w = health.free_disk_warning;
  if (pct < kCriticalFreePercent || disk.free_bytes < kCriticalFreeBytes) {
    row.status = HealthStatus::kCritical;
    d["note"] = "disk almost full: commits can fail with SQLITE_FULL";
  } else if ((w.percent > 0 && pct < w.percent) || (w.bytes > 0 && disk.free_bytes < w.bytes)) {
    row.status = HealthStatus::kWarning;
  }
  return row;
}

CheckRow FilesystemCheck(const FilesystemInfo& fs, const std::string& journal_mode) {
  CheckRow row{"filesystem", HealthStatus::kHealthy, {}};
  row.details["type"] = fs.type;
  row.details["network"] = fs.network;
  row.details["journal_mode"] = journal_mode;
  if (fs.network && journal_mode == "wal") {
    row.status = HealthStatus::kCritical;
    row.details["note"] =
        "WAL on a network filesystem: WAL needs shared memory between processes, which "
        "network filesystems do not provide; corruption is likely";
  } else if (fs.network) {
    row.status = HealthStatus::kWarning;
    row.details["note"] = "network filesystem: safe only if its POSIX locks work";
  }
  return row;
}

CheckRow JournalModeCheck(const std::string& journal_mode) {
  CheckRow row{"journal_mode", HealthStatus::kHealthy, {{"journal_mode", journal_mode}}};
  if (journal_mode == "wal") return row;
  row.status = HealthStatus::kWarning;
  if (journal_mode == "memory" || journal_mode == "off") {
    row.details["note"] =
        "no rollback journal on disk: a crash during a write can corrupt "
        "the database";
  } else {
    row.details["note"] =
        "rollback journal: a write blocks readers while it commits and "
        "maintenance blocks the application; WAL is recommended";
  }
  return row;
}

}  // namespace maintd
