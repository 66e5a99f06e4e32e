// `status [--json] [DB...]`: one line (or JSON object) per database. Read-only: takes no
// lock, writes nothing, opens databases read-only.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <set>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/commands.h"
#include "daemon/status_database.h"
#include "daemon/status_running.h"
#include "daemon/status_summary.h"
#include "lib/core/units.h"
#include "lib/inspect/db_stats.h"
#include "lib/journal/journal_reader.h"

namespace maintd {

namespace {

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
  TurnOffSqliteMemoryStatistics();  // many short connections on several threads
  const std::vector<ResolvedDatabase>& dbs = *targets;
  // A central journal is read once for all of them (one scan of its unindexed tables).
  StatusSweep sweep;
  sweep.config = &*config;
  sweep.now = std::chrono::system_clock::now();
  sweep.job_details = opts.json;
  if (config->journal != "target" && FileExists(config->journal)) {
    OpenOptions ro;
    ro.read_only = true;
    auto journal = Connection::Open(config->journal, ro);
    std::set<std::string> paths;
    for (const ResolvedDatabase& db : dbs) paths.insert(db.path);
    sweep.central.by_path = journal.ok() ? ReadLastOutcomesByDatabase(*journal, paths)
                                   : Result<std::map<std::string, std::vector<LastOutcome>>>(
                                         journal.status());
  }
  // Databases are independent and only read: look at several at once, each on its own
  // connection (never shared between threads), and print them in order, a chunk at a time.
  // A database at rest costs CPU only (status_database.h: header, one immutable read);
  // one in use gets a read-only connection, whose open creates the -wal and -shm when
  // missing and waits on the file system: more threads than cores keep those from
  // stalling the sweep (docs/performance.md, "10,000 databases").
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
        results[i - begin] = DatabaseStatus(sweep, dbs[i]);
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
