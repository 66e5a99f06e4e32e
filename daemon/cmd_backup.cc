// `backup [--dest DIR] DB`: online, verified backup; prints the backup path.
// `backups [--dest DIR] [--json] DB`: lists backups (path, time, size, verified).
//
// `backup` runs the same job the daemon schedules (lib/jobs/backup.h) through the one door
// (RunCommandJob), so it passes the same integrity gate and writes the same journal row. It
// takes the maintainer lock when it is free; while the daemon (or another maintainer)
// holds it, it backs up beside it (MaintainerOptions::beside_maintainer): the backup only
// reads the database, and rotation and the cleanup of leftovers stay the daemon's.
// Into the configured backup dir it applies backup.keep; with --dest it makes a one-off copy
// there and deletes nothing. `backups` only reads (no lock).
#include <cstdio>
#include <iostream>

#include "daemon/commands.h"
#include "lib/backup/catalog.h"
#include "lib/jobs/backup.h"

namespace maintd {

namespace {

struct BackupCmdOptions {
  std::string dest;
  std::string db;
  bool json = false;
};

int RunBackupCommand(CommandEnv& env, const BackupCmdOptions& opts) {
  return env.RunCommandJob(
      opts.db,
      [&opts](const ResolvedDatabase& db) {
        BackupJobOptions job_opts;
        if (!opts.dest.empty()) {
          job_opts.dest_dir = opts.dest;
          job_opts.rotate = false;
        }
        return MakeBackupJob(db, job_opts);  // its output line is the backup's path
      },
      // While the daemon maintains the database, back up beside it: the backup only reads,
      // and rotation and leftover cleanup stay the daemon's.
      [](MaintainerOptions& o) { o.beside_maintainer = true; });
}

std::string Iso(SystemTime t) {
  std::string s = FormatSqliteUtc(t);
  s[10] = 'T';
  return s + "Z";
}

std::string VerifiedText(const BackupEntry& e) {
  if (!e.verified) return "no: " + e.problem;
  return e.verify == "none" ? "yes (header only)" : "yes (" + e.verify + ")";
}

int RunBackupsCommand(CommandEnv& env, const BackupCmdOptions& opts) {
  auto config = env.LoadConfig();
  if (!config.ok()) {
    env.Fail(config.status());
    return env.exit_code;
  }
  auto db = env.Database(*config, opts.db);
  if (!db.ok()) {
    env.Fail(db.status());
    return env.exit_code;
  }
  std::string dir = opts.dest.empty() ? BackupDirFor(*db) : opts.dest;
  auto entries = ListBackups(dir, db->name, db->path);
  if (!entries.ok()) {
    env.Fail(entries.status());
    return env.exit_code;
  }
  if (opts.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *entries) {
      out.push_back({{"path", e.path},
                     {"time", Iso(e.time)},
                     {"size", e.size},
                     {"verified", e.verified},
                     {"verify", e.verify},
                     {"problem", e.problem}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (entries->empty()) {
    std::cout << "no backups of " << db->name << " in " << dir << "\n";
    return 0;
  }
  size_t width = 4;
  for (const auto& e : *entries) width = std::max(width, e.path.size());
  std::printf("%-*s  %-20s  %14s  %s\n", static_cast<int>(width), "PATH", "TIME (UTC)",
              "SIZE (bytes)", "VERIFIED");
  for (const auto& e : *entries) {
    std::printf("%-*s  %-20s  %14lld  %s\n", static_cast<int>(width), e.path.c_str(),
                Iso(e.time).c_str(), static_cast<long long>(e.size), VerifiedText(e).c_str());
  }
  return 0;
}

}  // namespace

void AddBackupCommands(CLI::App& app, CommandEnv& env) {
  auto opts = std::make_shared<BackupCmdOptions>();
  auto* backup = app.add_subcommand(
      "backup", "online backup that completes under writers, verified; prints the backup path");
  backup->add_option("--dest", opts->dest,
                     "directory for this one backup (default backup.dir; no rotation there)");
  backup->add_option("DB", opts->db, "database path or configured name")->required();
  AddProgressFlags(backup, env);
  backup->callback([&env, opts] { env.exit_code = RunBackupCommand(env, *opts); });

  auto list_opts = std::make_shared<BackupCmdOptions>();
  auto* list = app.add_subcommand("backups", "list backups: path, time, size, verified");
  list->add_option("--dest", list_opts->dest, "directory to list (default backup.dir)");
  list->add_flag("--json", list_opts->json, "JSON array instead of a table");
  list->add_option("DB", list_opts->db, "database path or configured name")->required();
  list->callback([&env, list_opts] { env.exit_code = RunBackupsCommand(env, *list_opts); });
}

}  // namespace maintd
