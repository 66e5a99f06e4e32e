// `checkpoint [--mode passive|full|restart|truncate] DB`: prints busy, log and checkpointed
// frames. A maintainer command (exit 75 while another maintainer holds the database); the
// job runs through the one door (RunCommandJob).
#include "daemon/commands.h"
#include "lib/jobs/checkpoint.h"

namespace maintd {

void AddCheckpointCommand(CLI::App& app, CommandEnv& env) {
  auto mode = std::make_shared<std::string>("passive");
  auto db = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("checkpoint",
                                 "WAL checkpoint; prints busy, log and checkpointed frames");
  cmd->add_option("--mode", *mode, "passive|full|restart|truncate (default passive)")
      ->check(CLI::IsMember({"passive", "full", "restart", "truncate"}));
  cmd->add_option("DB", *db, "database path or configured name")->required();
  cmd->callback([&env, mode, db] {
    env.exit_code = env.RunCommandJob(*db, [mode](const ResolvedDatabase& target) {
      CheckpointJobOptions options;
      options.mode = *mode == "full"       ? CheckpointMode::kFull
                     : *mode == "restart"  ? CheckpointMode::kRestart
                     : *mode == "truncate" ? CheckpointMode::kTruncate
                                           : CheckpointMode::kPassive;
      // Asked for by hand: writers may wait up to the database's busy_timeout.
      options.by_hand = true;
      options.wait = target.policy.busy_timeout;
      return MakeCheckpointJob(target, options);
    });
  });
}

}  // namespace maintd
