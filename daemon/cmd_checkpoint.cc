// `checkpoint [--mode passive|full|restart|truncate] DB`: prints busy, log and checkpointed
// frames. A maintainer command: takes the database's lock (exit 75 when held).
#include <iostream>

#include "daemon/commands.h"
#include "lib/jobs/checkpoint.h"

namespace maintd {

namespace {

struct CheckpointOptions {
  std::string mode = "passive";
  std::string db;
};

int RunCheckpointCommand(CommandEnv& env, const CheckpointOptions& opts) {
  auto maintained = env.AcquireDatabase(opts.db);
  if (!maintained) return env.exit_code;
  auto conn = maintained->OpenConnection();
  if (!conn.ok()) {
    env.Fail(conn.status());
    return env.exit_code;
  }
  CheckpointMode mode = opts.mode == "full"       ? CheckpointMode::kFull
                        : opts.mode == "restart"  ? CheckpointMode::kRestart
                        : opts.mode == "truncate" ? CheckpointMode::kTruncate
                                                  : CheckpointMode::kPassive;
  // Asked for by hand: writers may wait up to the database's busy_timeout.
  auto result = RunCheckpoint(*conn, mode, maintained->db().policy.busy_timeout);
  if (!result.ok()) {
    env.Fail(result.status());
    return env.exit_code;
  }
  std::cout << "busy=" << (result->busy ? 1 : 0) << " log=" << result->log_frames
            << " checkpointed=" << result->checkpointed_frames << " mode=" << opts.mode
            << " wal_bytes_before=" << result->wal_bytes_before
            << " wal_bytes_after=" << result->wal_bytes_after
            << " duration_ms=" << result->duration_ms << "\n";
  if (auto journal = maintained->OpenJournal()) {
    CheckRow row{"checkpoint", result->busy ? HealthStatus::kWarning : HealthStatus::kHealthy,
                 CheckpointDetails(*result)};
    row.details["trigger"] = "command";
    (void)journal->RecordCheck(row);
  }
  return 0;
}

}  // namespace

void AddCheckpointCommand(CLI::App& app, CommandEnv& env) {
  auto opts = std::make_shared<CheckpointOptions>();
  auto* cmd = app.add_subcommand("checkpoint",
                                 "WAL checkpoint; prints busy, log and checkpointed frames");
  cmd->add_option("--mode", opts->mode, "passive|full|restart|truncate (default passive)")
      ->check(CLI::IsMember({"passive", "full", "restart", "truncate"}));
  cmd->add_option("DB", opts->db, "database path or configured name")->required();
  cmd->callback([&env, opts] { env.exit_code = RunCheckpointCommand(env, *opts); });
}

}  // namespace maintd
