// `analyze [--full] DB`: ANALYZE per config (limited by default); prints duration and
// tables analyzed. A maintainer command: takes the database's lock (exit 75 when held).
#include <iostream>

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
    auto maintained = env.AcquireDatabase(*db);
    if (!maintained) return;
    auto conn = maintained->OpenConnection();
    if (!conn.ok()) return env.Fail(conn.status());
    const AnalyzePolicy& policy = maintained->db().policy.analyze;
    AnalyzeMode mode = *full ? AnalyzeMode::kFull : policy.mode;
    auto report = RunAnalyze(*conn, mode, policy.analysis_limit);
    if (!report.ok()) return env.Fail(report.status());
    std::cout << report->summary << "\n";
    if (auto journal = maintained->OpenJournal()) {
      (void)journal->RecordChecks(report->checks);
      (void)journal->RecordMetrics(report->metrics);
    }
    env.exit_code = 0;
  });
}

}  // namespace maintd
