#pragma once
// The command line (CONTRACT.md section 2). main.cc builds one CLI::App, adds the global
// options, and asks each Add*Command to add its subcommand. A subcommand's callback does
// its work and stores the process exit code in env.exit_code (0, 1, 2, 75, 78).
//
// Each command lives in its own daemon/cmd_<name>.cc.

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "daemon/progress_line.h"
#include "lib/core/status.h"
#include "lib/jobs/maintained_database.h"

namespace maintd {

struct GlobalOptions {
  std::string config_path;  // --config; "" = $SQLITE_MAINTD_CONFIG, then /etc/..., else default
  std::string log_level;    // --log-level; "" = from config
  std::string log_format;   // --log-format; "" = from config
};

class CommandEnv {
 public:
  GlobalOptions globals;
  int exit_code = 0;
  // One-shot commands log warnings and errors only (their results go to stdout) unless
  // --log-level says otherwise; `run` logs at the configured level.
  bool daemon_mode = false;
  // --progress / --no-progress (AddProgressFlags, daemon/progress_line.h): whether a
  // one-shot command draws its job's progress line on stderr.
  ProgressMode progress = ProgressMode::kAuto;

  // Loads the config (see GlobalOptions) and sets up logging. Config errors are
  // Status::Config (exit 78), already naming file, key and reason.
  Result<Config> LoadConfig();
  // The path the config comes from ("" = embedded default).
  std::string ConfigPath() const;

  // A DB argument (path or configured name) resolved against the config.
  Result<ResolvedDatabase> Database(const Config& config, const std::string& arg);

  // The databases a command acts on: the DB arguments (paths or names), or when none are
  // given every configured database (globs expanded). InvalidArgument when that is empty.
  Result<std::vector<ResolvedDatabase>> Targets(const Config& config,
                                                const std::vector<std::string>& args);

  // Maintainer options (journal target, lock dir, clock) from the config.
  MaintainerOptions MaintainerOptionsFor(const Config& config, const ResolvedDatabase& db) const;

  // Prints "sqlite-maintd: <message>" to stderr and sets exit_code from the status.
  void Fail(const Status& status);
  // Loads config, resolves `db_arg`, acquires the database as maintainer (lock: exit 75
  // when held). On error calls Fail() and returns nullptr.
  std::unique_ptr<MaintainedDatabase> AcquireDatabase(const std::string& db_arg,
                                                      Config* config_out = nullptr);

  // A one-shot maintainer command (analyze, checkpoint, vacuum, backup, restore): acquires
  // `db_arg`, builds its job with `make` and runs it through the one door
  // (MaintainedDatabase::Run), with SIGINT/SIGTERM asking the job to stop at its next safe
  // point (a second signal kills the process as usual), drawing the job's progress line on
  // stderr per `progress` (erased before the result is printed). Prints the report's output line
  // (or its summary) on stdout, or the error on stderr. Returns the exit code: 0 done, 1
  // failed / refused / corrupt / critical, 2 usage, 75 busy or another maintainer, 78
  // config. `acquire` adjusts the maintainer options (restore to a new path).
  using JobMaker = std::function<std::shared_ptr<Job>(const ResolvedDatabase& db)>;
  int RunCommandJob(const std::string& db_arg, const JobMaker& make,
                    const std::function<void(MaintainerOptions&)>& acquire = {},
                    const ResolvedDatabase* db_override = nullptr);
};

// What an operator can do about a temporary failure (exit 75): another maintainer holds
// the database, or it stayed busy past busy_timeout. "" for other statuses.
std::string WhatToDo(const Status& status);

void AddRunCommand(CLI::App& app, CommandEnv& env);
void AddOnceCommand(CLI::App& app, CommandEnv& env);
void AddStatusCommand(CLI::App& app, CommandEnv& env);
void AddCheckCommand(CLI::App& app, CommandEnv& env);
void AddCheckpointCommand(CLI::App& app, CommandEnv& env);
void AddVacuumCommand(CLI::App& app, CommandEnv& env);
void AddAnalyzeCommand(CLI::App& app, CommandEnv& env);
void AddBackupCommands(CLI::App& app, CommandEnv& env);   // backup, backups
void AddRestoreCommand(CLI::App& app, CommandEnv& env);
void AddValidateConfigCommand(CLI::App& app, CommandEnv& env);

}  // namespace maintd
