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
#include "lib/inspect/db_stats.h"
#include "lib/core/maintainer_lock.h"
#include "lib/jobs/integrity_gate.h"
#include "lib/journal/journal_reader.h"

namespace maintd {

namespace {

struct StatusOptions {
  bool json = false;
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

nlohmann::json DatabaseStatus(const Config& config, const ResolvedDatabase& db) {
  nlohmann::json j = {{"name", db.name}, {"path", db.path}};
  j["integrity"] = IntegrityStatus(config, db, nlohmann::json::object());
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
  // Databases are independent and only read: look at several at once, each on its own
  // connection (never shared between threads), and print them in order, a chunk at a time.
  // Opening a database and reading its header and journal costs ~0.5 ms of CPU, so a
  // sweep over a thousand tenants is CPU-bound (docs/performance.md, "Many databases").
  const std::vector<ResolvedDatabase>& dbs = *targets;
  size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 2, 8);
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
  cmd->add_option("DB", opts->dbs, "database paths or configured names (default: all)");
  cmd->callback([&env, opts] { env.exit_code = RunStatus(env, *opts); });
}

}  // namespace maintd
