// `status [--json] [DB...]`: one line (or JSON object) per database. Read-only: takes no
// lock, writes nothing, opens databases read-only.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/commands.h"
#include "daemon/status_running.h"
#include "daemon/status_summary.h"
#include "lib/inspect/db_stats.h"
#include "lib/core/maintainer_lock.h"
#include "lib/core/units.h"
#include "lib/jobs/integrity_gate.h"
#include "lib/journal/journal_reader.h"
#include "lib/wal/pin.h"

namespace maintd {

namespace {

SystemTime SystemClockNow() { return std::chrono::system_clock::now(); }

// 47m, 3h12m, 2d4h, 12s.
std::string FormatAge(int64_t s) {
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 86400) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d" + std::to_string(s % 86400 / 3600) + "h";
}

// 2.1 GiB, 512.0 KiB, 900 B.
std::string HumanBytes(int64_t b) { return FormatApproxSize(b); }

struct StatusOptions {
  bool json = false;
  bool summary = false;
  std::vector<std::string> dbs;
};

// What is known of the database's integrity, without reading the whole file: the integrity
// gate's note in the maintainer lock file (a database found corrupt, which nothing may be
// written into, jobs/integrity_gate.h), else the newest quick_check / integrity_check row.
nlohmann::json IntegrityStatus(const Config& config, const ResolvedDatabase& db,
                               const nlohmann::json& jobs) {
  if (auto noted = ParseIntegrityNote(MaintainerLock::ReadNote(db.path, config.lock_dir))) {
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
std::optional<int64_t> PinSecondsFromJournal(const nlohmann::json& jobs, const WalReader& r) {
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
      auto since = std::chrono::duration_cast<std::chrono::seconds>(SystemClockNow() - *at);
      int64_t seconds = x.value("seconds", int64_t{0}) + std::max<int64_t>(0, since.count());
      best = std::max(best.value_or(0), seconds);
    }
  }
  return best;
}

// The "wal" object: figures of the wal-index and the readers that pin it.
nlohmann::json WalStatus(Connection& conn, const nlohmann::json& jobs) {
  auto probe = ProbeWalPins(conn);
  if (!probe.ok()) return {{"error", probe.status().ToString()}};
  const WalIndexSnapshot& wal = probe->wal;
  if (wal.state != WalIndexState::kRead) return {{"shared_memory", false}, {"note", wal.reason}};
  nlohmann::json readers = nlohmann::json::array();
  for (const WalReader& r : probe->readers) {
    auto seconds = PinSecondsFromJournal(jobs, r);
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

// "WAL 2.1 GiB pinned 47m by pid 4242 (python3 worker.py)", or "".
std::string WalPinText(const nlohmann::json& j) {
  if (!j.contains("wal") || !j["wal"].contains("readers") || j["wal"]["readers"].empty()) return "";
  const nlohmann::json* oldest = nullptr;
  for (const nlohmann::json& r : j["wal"]["readers"]) {
    if (oldest == nullptr || r["seconds"].get<int64_t>() > (*oldest)["seconds"].get<int64_t>()) {
      oldest = &r;
    }
  }
  const nlohmann::json& r = *oldest;
  std::string who = r["pid"].is_number()
                        ? "pid " + std::to_string(r["pid"].get<int64_t>()) + " (" +
                              r["command"].get<std::string>() + ")"
                        : "a pid not visible here (another PID namespace: shareProcessNamespace)";
  std::string age = r.contains("seen") ? "(seen now)"
                                       : FormatAge(r["seconds"].get<int64_t>());
  size_t more = j["wal"]["readers"].size() - 1;
  return "WAL " + HumanBytes(j["wal"]["wal_bytes"].get<int64_t>()) + " pinned " + age + " by " +
         who + (more > 0 ? " and " + std::to_string(more) + " more" : "");
}

nlohmann::json DatabaseStatus(const Config& config, const ResolvedDatabase& db) {
  nlohmann::json j = {{"name", db.name}, {"path", db.path}};
  j["integrity"] = IntegrityStatus(config, db, nlohmann::json::object());
  j["running"] = RunningStatus(db.path, config.lock_dir, SystemClockNow());
  OpenOptions ro;
  ro.read_only = true;
  ro.busy_timeout = db.policy.busy_timeout;
  auto conn = Connection::Open(db.path, ro);
  if (!conn.ok()) {
    j["error"] = conn.status().ToString();
    return j;
  }
  auto stats = ReadDbStats(*conn);
  if (!stats.ok()) {
    j["error"] = stats.status().ToString();
    return j;
  }
  j["size"] = stats->file_size;
  j["page_size"] = stats->page_size;
  j["page_count"] = stats->page_count;
  j["freelist_count"] = stats->freelist_count;
  j["free_ratio"] = stats->free_ratio();
  j["wal_size"] = stats->wal_size;
  j["journal_mode"] = stats->journal_mode;
  j["auto_vacuum"] = AutoVacuumName(stats->auto_vacuum);
  if (stats->litestream) j["litestream"] = true;

  Result<std::vector<LastOutcome>> outcomes = std::vector<LastOutcome>{};
  if (config.journal == "target") {
    outcomes = ReadLastOutcomes(*conn, db.path);
  } else if (FileExists(config.journal)) {
    auto journal = Connection::Open(config.journal, ro);
    outcomes = journal.ok() ? ReadLastOutcomes(*journal, db.path)
                            : Result<std::vector<LastOutcome>>(journal.status());
  }
  nlohmann::json jobs = nlohmann::json::object();
  if (outcomes.ok()) {
    for (const auto& o : *outcomes) {
      jobs[o.job] = {{"status", o.status}, {"at", o.at}, {"details", o.details}};
    }
  } else {
    j["journal_error"] = outcomes.status().ToString();
  }
  j["jobs"] = jobs;
  j["integrity"] = IntegrityStatus(config, db, jobs);
  if (stats->journal_mode == "wal") j["wal"] = WalStatus(*conn, jobs);
  return j;
}

std::string TextLine(const nlohmann::json& j) {
  std::string line = j["name"].get<std::string>() + " " + j["path"].get<std::string>();
  const nlohmann::json& integrity = j["integrity"];
  std::string integrity_text = " integrity=" + integrity["status"].get<std::string>();
  if (integrity.contains("problem")) {
    integrity_text += " (" + integrity["problem"].get<std::string>() + ")";
  }
  if (j.contains("error")) return line + integrity_text + " error: " + j["error"].get<std::string>();
  char buf[512];
  std::snprintf(buf, sizeof buf,
                " size=%s page_size=%lld pages=%lld free_pages=%lld free_ratio=%.3f wal=%s "
                "journal_mode=%s auto_vacuum=%s",
                FormatSize(j["size"].get<int64_t>()).c_str(),
                static_cast<long long>(j["page_size"].get<int64_t>()),
                static_cast<long long>(j["page_count"].get<int64_t>()),
                static_cast<long long>(j["freelist_count"].get<int64_t>()),
                j["free_ratio"].get<double>(), FormatSize(j["wal_size"].get<int64_t>()).c_str(),
                j["journal_mode"].get<std::string>().c_str(),
                j["auto_vacuum"].get<std::string>().c_str());
  line += buf;
  line += integrity_text;
  if (std::string pin = WalPinText(j); !pin.empty()) line += " | " + pin;
  line += RunningText(j["running"]);
  for (const auto& [job, o] : j["jobs"].items()) {
    line += " | " + job + "=" + o["status"].get<std::string>() + "@" + o["at"].get<std::string>();
  }
  return line;
}

int RunStatus(CommandEnv& env, const StatusOptions& opts) {
  auto config = env.LoadConfig();
  if (!config.ok()) {
    env.Fail(config.status());
    return env.exit_code;
  }
  auto targets = env.Targets(*config, opts.dbs);
  if (!targets.ok()) {
    env.Fail(targets.status());
    return env.exit_code;
  }
  if (opts.summary) return PrintStatusSummary(*config, *targets, opts.json, std::cout);
  // Databases are independent and only read: look at several at once, each on its own
  // connection (never shared between threads), and print them in order, a chunk at a time.
  // A read-only open of an idle WAL database creates its -wal and -shm and the close
  // removes them again: the sweep waits on the file system more than on the CPU (10,000
  // tenants on 2 cores: 11.0 s with 2 threads, 6.9 s with 8, 5.9 s with 16; docs/
  // performance.md, "Many databases"), so it uses more threads than cores.
  const std::vector<ResolvedDatabase>& dbs = *targets;
  size_t threads = std::max<size_t>(16, std::thread::hardware_concurrency());
  constexpr size_t kChunk = 256;
  int code = 0;
  std::vector<nlohmann::json> results;
  for (size_t begin = 0; begin < dbs.size(); begin += kChunk) {
    size_t end = std::min(dbs.size(), begin + kChunk);
    results.assign(end - begin, nlohmann::json());
    std::atomic<size_t> next{begin};
    auto work = [&] {
      for (size_t i = next++; i < end; i = next++) {
        results[i - begin] = DatabaseStatus(*config, dbs[i]);
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < std::min(threads, end - begin); ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (const nlohmann::json& j : results) {
      if (j.contains("error")) code = 1;
      std::cout << (opts.json ? j.dump() : TextLine(j)) << "\n";
    }
  }
  return code;
}

}  // namespace

void AddStatusCommand(CLI::App& app, CommandEnv& env) {
  auto opts = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand("status", "one line (or JSON object) per database");
  cmd->add_flag("--json", opts->json, "one JSON object per line");
  cmd->add_flag("--summary", opts->summary,
                "one summary over all databases from header reads only (no journal)");
  cmd->add_option("DB", opts->dbs, "database paths or configured names (default: all)");
  cmd->callback([&env, opts] { env.exit_code = RunStatus(env, *opts); });
}

}  // namespace maintd
