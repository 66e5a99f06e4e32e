#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "daemon/commands.h"
#include "daemon/config_yaml.h"
#include "daemon/logging.h"
#include "lib/config/resolve.h"
#include "lib/inspect/db_stats.h"

namespace maintd {

namespace {
constexpr const char* kSystemConfig = "/etc/sqlite-maintd/config.yaml";
}

std::string CommandEnv::ConfigPath() const {
  if (!globals.config_path.empty()) return globals.config_path;
  const char* env = std::getenv("SQLITE_MAINTD_CONFIG");
  if (env != nullptr && *env != '\0') return env;
  if (FileExists(kSystemConfig)) return kSystemConfig;
  return "";
}

Result<Config> CommandEnv::LoadConfig() {
  std::string path = ConfigPath();
  Result<Config> config = path.empty() ? Result<Config>(DefaultConfig()) : LoadConfigFile(path);
  if (!config.ok()) {
    (void)SetupLogging(globals.log_level.empty() ? "info" : globals.log_level,
                       globals.log_format.empty() ? "text" : globals.log_format);
    return config.status();
  }
  std::string level = globals.log_level;
  if (level.empty()) {
    level = config->log_level;
    bool chatty = level == "trace" || level == "debug" || level == "info";
    if (!daemon_mode && chatty) level = "warn";
  }
  std::string format =
      globals.log_format.empty() ? ToString(config->log_format) : globals.log_format;
  Status s = SetupLogging(level, format);
  if (!s.ok()) return s;
  return config;
}

Result<ResolvedDatabase> CommandEnv::Database(const Config& config, const std::string& arg) {
  return FindDatabase(config, arg);
}

Result<std::vector<ResolvedDatabase>> CommandEnv::Targets(const Config& config,
                                                          const std::vector<std::string>& args) {
  std::vector<ResolvedDatabase> out;
  if (args.empty()) {
    auto all = ResolveDatabases(config);
    if (!all.ok()) return all.status();
    out = std::move(all).value();
    if (out.empty()) {
      return Status::InvalidArgument(
          "no databases: give DB paths on the command line or configure `databases:`");
    }
    return out;
  }
  for (const auto& arg : args) {
    auto db = FindDatabase(config, arg);
    if (!db.ok()) return db.status();
    out.push_back(std::move(db).value());
  }
  return out;
}

MaintainerOptions CommandEnv::MaintainerOptionsFor(const Config& config,
                                                   const ResolvedDatabase& db) const {
  MaintainerOptions o;
  if (config.journal != "target") o.journal.central_path = config.journal;
  o.journal.busy_timeout = db.policy.busy_timeout;
  o.lock_dir = config.lock_dir;
  o.create_missing = db.create_missing;
  return o;
}

std::string WhatToDo(const Status& status) {
  switch (status.code()) {
    case StatusCode::kLockHeld:
      return "If that is the running daemon, it runs this job itself on its schedule "
             "(`sqlite-maintd status DB` shows the last runs); `sqlite-maintd backup DB` works "
             "beside it. To run anything else now, stop the daemon first (systemctl stop "
             "sqlite-maintd), run the command, and start it again.";
    case StatusCode::kBusy:
      return "The database stayed locked past busy_timeout: an application held a write "
             "transaction that long. Run the command again later (the daemon retries at the "
             "next slot by itself), or raise busy_timeout for this database.";
    default:
      return "";
  }
}

void CommandEnv::Fail(const Status& status) {
  std::cerr << "sqlite-maintd: " << status.message() << "\n";
  if (std::string hint = WhatToDo(status); !hint.empty()) {
    std::cerr << "sqlite-maintd: " << hint << "\n";
  }
  exit_code = ExitCodeFor(status);
  if (exit_code == 0) exit_code = 1;
}

std::unique_ptr<MaintainedDatabase> CommandEnv::AcquireDatabase(const std::string& db_arg,
                                                                Config* config_out) {
  auto config = LoadConfig();
  if (!config.ok()) {
    Fail(config.status());
    return nullptr;
  }
  auto db = Database(*config, db_arg);
  if (!db.ok()) {
    Fail(db.status());
    return nullptr;
  }
  auto maintained = MaintainedDatabase::Acquire(*db, MaintainerOptionsFor(*config, *db));
  if (!maintained.ok()) {
    Fail(maintained.status());
    return nullptr;
  }
  if (config_out != nullptr) *config_out = std::move(config).value();
  return std::move(maintained).value();
}

}  // namespace maintd
