#include "lib/backup/catalog.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "lib/backup/file_util.h"
#include "lib/inspect/db_stats.h"

namespace maintd {
namespace {

constexpr size_t kStampLen = 16;  // yyyymmddThhmmssZ

std::string IsoUtc(SystemTime t) {
  std::string s = FormatSqliteUtc(t);  // "2026-11-22 03:00:00"
  s[10] = 'T';
  return s + "Z";
}

int64_t UnixMs(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime FromUnixMs(int64_t ms) { return SystemTime(std::chrono::milliseconds(ms)); }

// The same database file: equal paths, or equal after resolving symlinks (a database named
// through a symlink once and by its real path another time).
bool SameSource(const std::string& a, const std::string& b) {
  if (a == b) return true;
  char ra[PATH_MAX], rb[PATH_MAX];
  return ::realpath(a.c_str(), ra) != nullptr && ::realpath(b.c_str(), rb) != nullptr &&
         std::string(ra) == rb;
}

bool IsStamp(const std::string& s) {
  if (s.size() != kStampLen || s[8] != 'T' || s[15] != 'Z') return false;
  for (size_t i = 0; i < kStampLen; ++i) {
    if (i == 8 || i == 15) continue;
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

std::vector<std::string> DirEntries(const std::string& dir, bool* missing) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  *missing = d == nullptr;
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  return names;
}

std::optional<BackupSidecar> ReadSidecar(const std::string& path, std::string* problem) {
  std::ifstream in(path);
  if (!in) {
    *problem = "no sidecar " + BaseName(path);
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) {
    *problem = "unreadable sidecar";
    return std::nullopt;
  }
  auto sc = BackupSidecar::FromJson(j);
  if (!sc.ok()) {
    *problem = "unreadable sidecar: " + sc.status().message();
    return std::nullopt;
  }
  return sc.value();
}

}  // namespace

std::string BackupDirFor(const ResolvedDatabase& db) {
  if (!db.policy.backup.dir.empty()) return db.policy.backup.dir;
  return DirName(db.path) + "/backups";
}

std::string BackupFileName(const std::string& name, SystemTime stamp) {
  return name + "-" + FormatCompactUtc(stamp) + ".db";
}

std::string BackupTempName(const std::string& final_name) { return "." + final_name + ".tmp"; }

std::string SidecarPath(const std::string& backup_path) { return backup_path + ".json"; }

std::optional<SystemTime> ParseBackupFileName(const std::string& name,
                                              const std::string& file_name) {
  std::string prefix = name + "-";
  if (file_name.size() != prefix.size() + kStampLen + 3) return std::nullopt;
  if (file_name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  if (file_name.compare(file_name.size() - 3, 3, ".db") != 0) return std::nullopt;
  std::string stamp = file_name.substr(prefix.size(), kStampLen);
  if (!IsStamp(stamp)) return std::nullopt;
  struct tm tm {};
  if (strptime(stamp.c_str(), "%Y%m%dT%H%M%SZ", &tm) == nullptr) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

nlohmann::json BackupSidecar::ToJson() const {
  return {{"format", 1},
          {"source", source},
          {"name", name},
          {"snapshot", IsoUtc(snapshot)},
          {"snapshot_unix_ms", UnixMs(snapshot)},
          {"completed", IsoUtc(completed)},
          {"completed_unix_ms", UnixMs(completed)},
          {"bytes", bytes},
          {"page_size", page_size},
          {"page_count", page_count},
          {"journal_mode", journal_mode},
          {"verify", verify},
          {"verify_result", verify_result},
          {"duration_ms", duration_ms}};
}

Result<BackupSidecar> BackupSidecar::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("not a JSON object");
  BackupSidecar s;
  try {
    s.source = j.at("source").get<std::string>();
    s.name = j.value("name", "");
    s.snapshot = FromUnixMs(j.at("snapshot_unix_ms").get<int64_t>());
    s.completed = FromUnixMs(j.value("completed_unix_ms", int64_t{0}));
    s.bytes = j.at("bytes").get<int64_t>();
    s.page_size = j.value("page_size", int64_t{0});
    s.page_count = j.value("page_count", int64_t{0});
    s.journal_mode = j.value("journal_mode", "");
    s.verify = j.at("verify").get<std::string>();
    s.verify_result = j.at("verify_result").get<std::string>();
    s.duration_ms = j.value("duration_ms", int64_t{0});
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(e.what());
  }
  return s;
}

Result<std::vector<BackupEntry>> ListBackups(const std::string& dir, const std::string& name,
                                             const std::string& source) {
  bool missing = false;
  std::vector<BackupEntry> out;
  for (const std::string& file : DirEntries(dir, &missing)) {
    auto stamp = ParseBackupFileName(name, file);
    if (!stamp) continue;
    BackupEntry e;
    e.path = dir + "/" + file;
    e.time = *stamp;
    struct stat st {};
    if (::stat(e.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    e.size = static_cast<int64_t>(st.st_size);
    e.sidecar = ReadSidecar(SidecarPath(e.path), &e.problem);
    if (e.sidecar) {
      if (!SameSource(e.sidecar->source, source)) continue;  // another database's backup
      if (e.sidecar->verify_result != "ok") {
        e.problem = "verification recorded as " + e.sidecar->verify_result;
      } else if (e.sidecar->bytes != e.size) {
        e.problem = "size " + std::to_string(e.size) + " differs from the " +
                    std::to_string(e.sidecar->bytes) + " bytes written";
      } else {
        e.verified = true;
        e.verify = e.sidecar->verify;
      }
    }
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(),
            [](const BackupEntry& a, const BackupEntry& b) { return a.time > b.time; });
  return out;
}

std::optional<BackupEntry> NewestVerified(const std::vector<BackupEntry>& entries) {
  for (const auto& e : entries) {
    if (e.verified) return e;
  }
  return std::nullopt;
}

Result<std::vector<std::string>> RemoveStaleBackupFiles(const std::string& dir,
                                                        const std::string& name,
                                                        const std::string& source) {
  bool missing = false;
  std::vector<std::string> removed;
  std::string prefix = "." + name + "-";
  for (const std::string& file : DirEntries(dir, &missing)) {
    std::string path = dir + "/" + file;
    // ".<name>-<stamp>.db.tmp" (a copy in progress) or ".<name>-<stamp>.db.json.tmp".
    bool temp = false;
    if (file.size() > prefix.size() + 4 && file.compare(0, prefix.size(), prefix) == 0 &&
        file.compare(file.size() - 4, 4, ".tmp") == 0) {
      std::string inner = file.substr(1, file.size() - 5);
      if (inner.size() > 5 && inner.compare(inner.size() - 5, 5, ".json") == 0) {
        inner.resize(inner.size() - 5);
      }
      temp = ParseBackupFileName(name, inner).has_value();
    }
    bool orphan_sidecar = false;
    if (!temp && file.size() > 5 && file.compare(file.size() - 5, 5, ".json") == 0) {
      std::string backup = file.substr(0, file.size() - 5);
      if (ParseBackupFileName(name, backup) && !FileExists(dir + "/" + backup)) {
        std::string problem;
        auto sc = ReadSidecar(path, &problem);
        orphan_sidecar = sc && SameSource(sc->source, source);
      }
    }
    if (!temp && !orphan_sidecar) continue;
    MAINTD_RETURN_IF_ERROR(RemoveIfExists(path));
    removed.push_back(path);
  }
  if (!removed.empty()) MAINTD_RETURN_IF_ERROR(FsyncDir(dir));
  return removed;
}

}  // namespace maintd
