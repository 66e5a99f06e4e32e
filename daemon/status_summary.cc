#include "daemon/status_summary.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "lib/core/maintainer_lock.h"
#include "lib/core/units.h"
#include "lib/inspect/db_header.h"
#include "lib/inspect/db_stats.h"
#include "lib/jobs/integrity_gate.h"

namespace maintd {

namespace {

// How many databases each "top" list names.
constexpr size_t kTop = 5;

struct Seen {
  const ResolvedDatabase* db;
  DbHeader header;
  int64_t wal_size = 0;
};

nlohmann::json Brief(const Seen& s) {
  return {{"name", s.db->name},       {"path", s.db->path},
          {"size", s.header.file_size}, {"wal_size", s.wal_size},
          {"free_ratio", s.header.free_ratio()}};
}

// The `kTop` databases with the largest `key`, largest first, skipping zeros.
template <typename Key>
nlohmann::json Top(std::vector<Seen>& seen, Key key) {
  std::sort(seen.begin(), seen.end(), [&](const Seen& a, const Seen& b) { return key(a) > key(b); });
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < seen.size() && i < kTop && key(seen[i]) > 0; ++i) out.push_back(Brief(seen[i]));
  return out;
}

}  // namespace

int PrintStatusSummary(const Config& config, const std::vector<ResolvedDatabase>& dbs, bool json,
                       std::ostream& out) {
  std::vector<Seen> seen;
  seen.reserve(dbs.size());
  nlohmann::json errors = nlohmann::json::array();
  nlohmann::json critical = nlohmann::json::array();
  int64_t bytes = 0, wal_bytes = 0, pages = 0, free_pages = 0;
  size_t wal_mode = 0, with_wal_frames = 0, above_trigger = 0;
  for (const ResolvedDatabase& db : dbs) {
    if (auto noted = ParseIntegrityNote(MaintainerLock::ReadNote(db.path, config.lock_dir))) {
      critical.push_back({{"name", db.name}, {"path", db.path}, {"at", FormatSqliteUtc(noted->at)},
                          {"problem", noted->problem}});
    }
    auto header = ReadDbHeader(db.path);
    if (!header.ok()) {
      errors.push_back({{"name", db.name}, {"path", db.path}, {"error", header.status().ToString()}});
      continue;
    }
    const DbHeader& h = *header;
    int64_t wal_size = FileSize(db.path + "-wal");
    bytes += h.file_size + wal_size;
    wal_bytes += wal_size;
    pages += h.header_count_valid || h.page_size == 0 ? h.header_page_count : h.file_size / h.page_size;
    free_pages += h.freelist_count;
    wal_mode += h.wal() ? 1 : 0;
    with_wal_frames += wal_size > 0 ? 1 : 0;
    const VacuumPolicy& v = db.policy.vacuum;
    above_trigger += h.free_ratio() >= v.trigger_free_ratio && h.freelist_count >= v.min_free_pages;
    seen.push_back({&db, h, wal_size});
  }
  nlohmann::json j = {{"databases", dbs.size()},
                      {"read", seen.size()},
                      {"wal_mode", wal_mode},
                      {"bytes", bytes},
                      {"wal_bytes", wal_bytes},
                      {"with_wal_frames", with_wal_frames},
                      {"pages", pages},
                      {"free_pages", free_pages},
                      {"above_vacuum_trigger", above_trigger},
                      {"integrity_critical", critical},
                      {"errors", errors}};
  j["largest_wal"] = Top(seen, [](const Seen& s) { return static_cast<double>(s.wal_size); });
  j["most_free"] = Top(seen, [](const Seen& s) { return s.header.free_ratio(); });
  int code = critical.empty() && errors.empty() ? 0 : 1;
  if (json) {
    out << j.dump() << "\n";
    return code;
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "databases=%zu read=%zu wal_mode=%zu size=%s wal=%s (%zu with frames not "
                "checkpointed) free_pages=%lld of %lld above_vacuum_trigger=%zu "
                "integrity_critical=%zu errors=%zu\n",
                dbs.size(), seen.size(), wal_mode, FormatSize(bytes).c_str(),
                FormatSize(wal_bytes).c_str(), with_wal_frames, static_cast<long long>(free_pages),
                static_cast<long long>(pages), above_trigger, critical.size(), errors.size());
  out << line;
  for (const auto& c : critical) {
    out << "critical " << c["name"].get<std::string>() << " " << c["path"].get<std::string>()
        << " at " << c["at"].get<std::string>() << ": " << c["problem"].get<std::string>() << "\n";
  }
  for (const auto& e : errors) {
    out << "error " << e["name"].get<std::string>() << " " << e["path"].get<std::string>() << ": "
        << e["error"].get<std::string>() << "\n";
  }
  for (const auto& w : j["largest_wal"]) {
    out << "largest_wal " << w["name"].get<std::string>() << " "
        << FormatSize(w["wal_size"].get<int64_t>()) << "\n";
  }
  for (const auto& w : j["most_free"]) {
    std::snprintf(line, sizeof line, "%.3f", w["free_ratio"].get<double>());
    out << "most_free " << w["name"].get<std::string>() << " free_ratio=" << line << "\n";
  }
  return code;
}

}  // namespace maintd
