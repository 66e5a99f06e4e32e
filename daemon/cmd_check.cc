// `check [--full] DB`: quick_check (integrity_check with --full) and foreign_key_check.
// Read-only: takes no lock and writes nothing. Exit 0 ok, 1 problems found.
#include <iostream>

#include "daemon/commands.h"
#include "lib/jobs/health_checks.h"

namespace maintd {

namespace {

// The most problems `check` prints, and how many SQLite is asked to find.
constexpr size_t kPrintedProblems = 20;
constexpr int kCountedProblems = 10000;

int RunCheck(CommandEnv& env, bool full, const std::string& db_arg) {
  auto config = env.LoadConfig();
  if (!config.ok()) {
    env.Fail(config.status());
    return env.exit_code;
  }
  auto db = env.Database(*config, db_arg);
  if (!db.ok()) {
    env.Fail(db.status());
    return env.exit_code;
  }
  OpenOptions ro;
  ro.read_only = true;
  ro.busy_timeout = db->policy.busy_timeout;
  auto conn = Connection::Open(db->path, ro);
  if (!conn.ok()) {
    env.Fail(conn.status());
    return env.exit_code;
  }
  const char* name = full ? "integrity_check" : "quick_check";
  // SQLite's integrity checks give no measure of how far they are: the line shows the
  // phase and the time it has taken.
  ProgressLine progress(env.progress);
  progress.SetLabel("check");
  progress.Report(name, 0, 0, "");
  auto integrity = RunIntegrityCheck(*conn, full, kCountedProblems, kPrintedProblems);
  progress.Clear();
  if (!integrity.ok()) {
    env.Fail(integrity.status());
    return env.exit_code;
  }
  const nlohmann::json& d = integrity->row.details;
  std::cout << name << ": " << (integrity->corrupt ? "FAILED" : "ok") << " ("
            << d.value("duration_ms", int64_t{0}) << " ms)\n";
  if (integrity->corrupt) {
    // The first problems, once each, then how many more: the error that stopped the check
    // (a page too damaged to read), if any, counts as one of them.
    std::vector<std::string> lines;
    if (d.contains("error")) lines.push_back(d["error"].get<std::string>());
    for (const auto& line : d.value("messages", nlohmann::json::array())) {
      lines.push_back(line.get<std::string>());
    }
    int64_t total = d.value("message_count", int64_t{0}) + (d.contains("error") ? 1 : 0);
    int64_t printed = 0;
    for (size_t i = 0; i < lines.size() && i < kPrintedProblems; ++i, ++printed) {
      std::cout << "  " << lines[i] << "\n";
    }
    int64_t more = total - printed;
    if (more > 0) {
      std::cout << "  ... and " << more << " more"
                << (d.value("messages_truncated", false) ? " (SQLite stopped counting there)" : "")
                << "\n";
    }
    return 1;  // foreign keys of a corrupt database mean nothing
  }
  progress.Report("foreign_key_check", 0, 0, "");
  auto fk = RunForeignKeyCheck(*conn);
  progress.Clear();
  if (!fk.ok()) {
    env.Fail(fk.status());
    return env.exit_code;
  }
  int64_t violations = fk->details.value("violations", int64_t{0});
  std::cout << "foreign_key_check: " << (violations == 0 ? "ok" : "FAILED") << "\n";
  int64_t shown = 0;
  for (const auto& v : fk->details.value("first", nlohmann::json::array())) {
    std::cout << "  table rowid parent fkid: " << v.value("table", "") << " "
              << (v["rowid"].is_null() ? std::string("NULL") : std::to_string(v["rowid"].get<int64_t>()))
              << " " << v.value("parent", "") << " " << v.value("fkid", int64_t{0}) << "\n";
    ++shown;
  }
  if (violations > shown) std::cout << "  ... and " << violations - shown << " more\n";
  return violations == 0 ? 0 : 1;
}

}  // namespace

void AddCheckCommand(CLI::App& app, CommandEnv& env) {
  auto full = std::make_shared<bool>(false);
  auto db = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "check", "quick_check (integrity_check with --full) and foreign_key_check; exit 0 ok, "
               "1 problems found");
  cmd->add_flag("--full", *full, "PRAGMA integrity_check instead of quick_check");
  cmd->add_option("DB", *db, "database path or configured name")->required();
  AddProgressFlags(cmd, env);
  cmd->callback([&env, full, db] { env.exit_code = RunCheck(env, *full, *db); });
}

}  // namespace maintd
