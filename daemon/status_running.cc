#include "daemon/status_running.h"

#include <signal.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

#include "lib/core/maintainer_lock.h"
#include "lib/core/units.h"
#include "lib/jobs/run_progress.h"

namespace maintd {

namespace {

bool Alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::string IsoUtc(SystemTime t) {
  std::string s = FormatSqliteUtc(t);
  s[10] = 'T';
  return s + "Z";
}

}  // namespace

nlohmann::json RunningStatus(const std::string& db_path, const std::string& lock_dir,
                             SystemTime now) {
  return RunningStatus(MaintainerLock::Read(db_path, lock_dir), now);
}

nlohmann::json RunningStatus(const MaintainerLock::Content& lock, SystemTime now) {
  if (lock.activity.empty() || !Alive(lock.pid)) return nullptr;
  auto a = ParseActivity(lock.activity);
  if (!a) return nullptr;
  int64_t elapsed =
      std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - a->since).count());
  nlohmann::json j = {{"job", a->job},
                      {"pid", lock.pid},
                      {"since", IsoUtc(a->since)},
                      {"elapsed_seconds", elapsed}};
  if (!a->phase.empty()) {
    j["phase"] = a->phase;
    j["done"] = a->done;
    j["total"] = a->total;
    j["unit"] = a->unit;
  }
  auto fraction = a->fraction();
  j["progress"] = fraction ? nlohmann::json(std::round(*fraction * 1000) / 1000) : nlohmann::json();
  return j;
}

std::string RunningText(const nlohmann::json& r) {
  if (r.is_null()) return "";
  std::string text = " | running ";
  text += r["job"].get<std::string>();
  if (r.contains("phase") && r["phase"] != r["job"]) {
    text += ' ';
    text += r["phase"].get<std::string>();
  }
  char buf[160];
  if (r["progress"].is_number()) {
    std::snprintf(buf, sizeof buf, " %d%% (%llu/%llu %s)",
                  static_cast<int>(r["progress"].get<double>() * 100),
                  static_cast<unsigned long long>(r["done"].get<uint64_t>()),
                  static_cast<unsigned long long>(r["total"].get<uint64_t>()),
                  r["unit"].get<std::string>().c_str());
    text += buf;
  } else if (r.contains("done") && r["done"].get<uint64_t>() > 0) {
    std::snprintf(buf, sizeof buf, " %llu %s",
                  static_cast<unsigned long long>(r["done"].get<uint64_t>()),
                  r["unit"].get<std::string>().c_str());
    text += buf;
  }
  long long s = r["elapsed_seconds"].get<long long>();
  if (s < 60) {
    std::snprintf(buf, sizeof buf, " for %llds", s);
  } else {
    std::snprintf(buf, sizeof buf, " for %lldm%02llds", s / 60, s % 60);
  }
  text += buf;
  return text;
}

}  // namespace maintd
