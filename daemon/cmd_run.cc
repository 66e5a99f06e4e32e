// `run [DB...]`: the daemon (the default command).
#include "daemon/commands.h"
#include "daemon/daemon.h"

namespace maintd {

void AddRunCommand(CLI::App& app, CommandEnv& env) {
  auto dbs = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand(
      "run", "run the daemon (default); DB paths given here get the default policy");
  cmd->add_option("DB", *dbs, "database paths to maintain in addition to the configured ones");
  cmd->callback([&env, dbs] {
    env.daemon_mode = true;
    auto config = env.LoadConfig();
    if (!config.ok()) return env.Fail(config.status());
    Daemon daemon(env, std::move(config).value(), *dbs);
    env.exit_code = daemon.Run();
  });
}

}  // namespace maintd
