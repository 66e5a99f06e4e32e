// `restore [--force] BACKUP DB`: puts a verified backup in place of DB (CONTRACT.md
// section 6; the steps are in lib/backup/restore.h), as a job through the one door
// (lib/jobs/restore.h). Exit 0 restored; 1 the backup is
// damaged or the database is in use / has a hot -wal or -journal (refused; --force
// overrides the latter); 75 another maintainer (the daemon) holds the database.
//
// DB may also be a path that does not exist yet (its directory must): the backup is then
// restored there and there is no pre-restore copy.
#include <unistd.h>

#include <iostream>
#include <optional>

#include "daemon/commands.h"
#include "lib/jobs/restore.h"
#include "lib/inspect/db_stats.h"

namespace maintd {

namespace {

struct RestoreCmdOptions {
  bool force = false;
  std::string backup;
  std::string db;
};

int RunRestoreCommand(CommandEnv& env, const RestoreCmdOptions& opts) {
  auto config = env.LoadConfig();
  if (!config.ok()) {
    env.Fail(config.status());
    return env.exit_code;
  }
  std::optional<ResolvedDatabase> fresh;  // a new file: no configured policy to find
  auto db = env.Database(*config, opts.db);
  if (!db.ok()) {
    // A new file: allowed when its directory exists and it is not a configured name.
    std::string abs = opts.db;
    if (!abs.empty() && abs[0] != '/') {
      char cwd[4096];
      if (getcwd(cwd, sizeof cwd) != nullptr) abs = std::string(cwd) + "/" + abs;
    }
    bool looks_like_path =
        opts.db.find('/') != std::string::npos || opts.db.find('.') != std::string::npos;
    if (!looks_like_path || FileExists(abs) || !FileExists(DirName(abs))) {
      env.Fail(db.status());
      return env.exit_code;
    }
    fresh.emplace();
    fresh->name = opts.db;
    fresh->path = abs;
    fresh->policy = config->defaults;
  }
  RestoreOptions ropts;
  ropts.force = opts.force;
  return env.RunCommandJob(
      opts.db, [&](const ResolvedDatabase&) { return MakeRestoreJob(opts.backup, ropts); },
      [](MaintainerOptions& o) { o.allow_missing = true; }, fresh ? &*fresh : nullptr);
}

}  // namespace

void AddRestoreCommand(CLI::App& app, CommandEnv& env) {
  auto opts = std::make_shared<RestoreCmdOptions>();
  auto* cmd = app.add_subcommand(
      "restore",
      "restore a backup into place: verifies it, keeps <db>.pre-restore-<time>, refuses while "
      "the database is in use");
  cmd->add_flag("--force", opts->force,
                "restore even when the database is open elsewhere or has a -wal/-journal with "
                "content (they are removed; the pre-restore copy keeps them)");
  cmd->add_option("BACKUP", opts->backup, "backup file")->required()->check(CLI::ExistingFile);
  cmd->add_option("DB", opts->db, "database path or configured name")->required();
  AddProgressFlags(cmd, env);
  cmd->callback([&env, opts] { env.exit_code = RunRestoreCommand(env, *opts); });
}

}  // namespace maintd
