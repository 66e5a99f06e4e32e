// `analyze [--full] DB`: ANALYZE per config (limited by default); prints duration and
// tables analyzed. A maintainer command (exit 75 while another maintainer holds the
// database); the job runs through the one door (RunCommandJob).
#include "daemon/commands.h"
#include "lib/jobs/analyze.h"

namespace maintd {

void AddAnalyzeCommand(CLI::App& app, CommandEnv& env) {
  auto full = std::make_shared<bool>(false);
  auto db = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "analyze", "ANALYZE per config (limited by default); prints duration and tables");
  cmd->add_flag("--full", *full, "plain ANALYZE of every row");
  cmd->add_option("DB", *db, "database path or configured name")->required();
  cmd->callback([&env, full, db] {
    env.exit_code = env.RunCommandJob(*db, [full](const ResolvedDatabase& target) {
      AnalyzeJobOptions options;
      if (*full) options.mode = AnalyzeMode::kFull;
      return MakeAnalyzeJob(target, options);
    });
  });
}

}  // namespace maintd
