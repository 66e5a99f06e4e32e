// `vacuum [--incremental [--pages N] | --full | --into PATH] DB`: prints pages and bytes
// freed and the duration. A maintainer command (exit 75 while another maintainer holds the
// database); the job (lib/jobs/vacuum.h, VacuumCommand: which method the flags and the
// database call for) runs through the one door (RunCommandJob).
// Exit codes: 0 done; 1 refused, corrupt or failed; 2 usage (e.g. the --into target
// exists); 75 busy past busy_timeout or another maintainer holds the database.
#include "daemon/commands.h"
#include "lib/jobs/vacuum.h"

namespace maintd {

void AddVacuumCommand(CLI::App& app, CommandEnv& env) {
  auto o = std::make_shared<VacuumCommand>();
  auto incremental = std::make_shared<bool>(false);
  auto full_flag = std::make_shared<bool>(false);
  auto db = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "vacuum", "incremental or full VACUUM (or VACUUM INTO); prints pages and bytes freed");
  auto* inc = cmd->add_flag("--incremental", *incremental,
                            "incremental vacuum in short steps that let writers in");
  auto* pages =
      cmd->add_option("--pages", o->pages, "with --incremental: free about N pages, then stop")
          ->check(CLI::PositiveNumber);
  auto* full = cmd->add_flag("--full", *full_flag, "full VACUUM in place (blocks writers)");
  auto* into = cmd->add_option("--into", o->into, "VACUUM INTO a new file (PATH must not exist)");
  pages->needs(inc);
  inc->excludes(full)->excludes(into);
  full->excludes(into);
  cmd->add_option("DB", *db, "database path or configured name")->required();
  AddProgressFlags(cmd, env);
  cmd->callback([&env, o, incremental, full_flag, db] {
    o->method = *incremental ? VacuumCommand::kIncremental
                : *full_flag ? VacuumCommand::kFull
                             : VacuumCommand::kAsPolicyAllows;
    env.exit_code = env.RunCommandJob(*db, [o](const ResolvedDatabase& target) {
      return MakeVacuumCommandJob(target, *o);
    });
  });
}

}  // namespace maintd
