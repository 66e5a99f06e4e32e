// `backup [--dest DIR] DB`: online, verified backup; prints the backup path.
// `backups [--dest DIR] [--json] DB`: lists backups (path, time, size, verified).
//
// `backup` is a maintainer command (takes the database's lock: exit 75 when held) and runs
// the same job the daemon schedules (lib/jobs/backup.h), so it writes the same journal row.
// Into the configured backup dir it applies backup.keep; with --dest it makes a one-off copy
// there and deletes nothing. `backups` only reads (no lock).
#include <signal.h>

#include <atomic>
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

// SIGINT/SIGTERM during a one-shot backup stop it between chunks (the partial copy is
// removed); a second signal kills the process as usual. RequestStopFromSignal: RequestStop
// takes a mutex, which a signal handler must not.
std::atomic<StopToken*> g_stop{nullptr};
extern "C" void OnStopSignal(int sig) {
  if (StopToken* t = g_stop.load()) t->RequestStopFromSignal();
  ::signal(sig, SIG_DFL);
}

int RunBackupCommand(CommandEnv& env, const BackupCmdOptions& opts) {
  auto maintained = env.AcquireDatabase(opts.db);
  if (!maintained) return env.exit_code;
  BackupJobOptions job_opts;
  if (!opts.dest.empty()) {
    job_opts.dest_dir = opts.dest;
    job_opts.rotate = false;
  }
  auto job = MakeBackupJob(maintained->db(), job_opts);
  StopToken stop;
  g_stop.store(&stop);
  auto old_int = ::signal(SIGINT, OnStopSignal);
  auto old_term = ::signal(SIGTERM, OnStopSignal);
  JobOutcome outcome = maintained->Run(*job, JobTrigger::kCommand, stop);
  ::signal(SIGINT, old_int);
  ::signal(SIGTERM, old_term);
  g_stop.store(nullptr);
  if (!outcome.error.ok()) {
    env.Fail(outcome.error);
    return env.exit_code;
  }
  std::string path;
  for (const auto& row : outcome.report.checks) {
    if (row.check_type == "backup" && row.details.contains("path")) {
      path = row.details["path"].get<std::string>();
    }
  }
  if (path.empty()) {
    env.Fail(Status::Failed("backup finished without a path (" + outcome.report.summary + ")"));
    return env.exit_code;
  }
  std::cout << path << "\n";
  return outcome.status == HealthStatus::kCritical ? 1 : 0;
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
  backup->callback([&env, opts] { env.exit_code = RunBackupCommand(env, *opts); });

  auto list_opts = std::make_shared<BackupCmdOptions>();
  auto* list = app.add_subcommand("backups", "list backups: path, time, size, verified");
  list->add_option("--dest", list_opts->dest, "directory to list (default backup.dir)");
  list->add_flag("--json", list_opts->json, "JSON array instead of a table");
  list->add_option("DB", list_opts->db, "database path or configured name")->required();
  list->callback([&env, list_opts] { env.exit_code = RunBackupsCommand(env, *list_opts); });
}

}  // namespace maintd
