// `validate-config`: load and validate the config, print it normalized, exit 0 or 78.
#include <iostream>

#include "daemon/commands.h"
#include "daemon/config_yaml.h"
#include "lib/config/resolve.h"
#include "lib/queue/schema_check.h"

namespace maintd {

void AddValidateConfigCommand(CLI::App& app, CommandEnv& env) {
  auto* cmd = app.add_subcommand(
      "validate-config", "load and validate the config, print it normalized, exit 0 or 78");
  cmd->callback([&env] {
    auto config = env.LoadConfig();
    if (!config.ok()) return env.Fail(config.status());
    // The same checks as the daemon's start: files exist, rules match the schema.
    auto dbs = ResolveDatabases(*config);
    if (!dbs.ok()) return env.Fail(dbs.status());
    for (const auto& db : *dbs) {
      if (db.lease_requeue.empty() && db.retention.empty()) continue;
      Status s = CheckRulesAgainstSchema(db);
      if (!s.ok()) {
        std::string source = env.ConfigPath().empty() ? "(embedded default)" : env.ConfigPath();
        return env.Fail(Status::Config(source + ": " + s.message()));
      }
    }
    std::cout << NormalizedYaml(*config);
    env.exit_code = 0;
  });
}

}  // namespace maintd
