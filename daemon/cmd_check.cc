// `check [--full] DB`: quick_check (integrity_check with --full) and foreign_key_check.
// Read-only: takes no lock and writes nothing. Exit 0 ok, 1 problems found.
#include <iostream>

#include "daemon/commands.h"
#include "lib/jobs/job.h"
#include "lib/sqlite/statement.h"

namespace maintd {

namespace {

// Rows of a checking pragma; an SQLite CORRUPT error while reading counts as a problem.
Result<std::vector<std::string>> PragmaRows(Connection& conn, const std::string& sql,
                                            int columns) {
  std::vector<std::string> rows;
  auto stmt = conn.Prepare(sql);
  if (!stmt.ok()) {
    if (stmt.status().code() == StatusCode::kCorrupt) return std::vector{stmt.status().message()};
    return stmt.status();
  }
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) {
      if (row.status().code() != StatusCode::kCorrupt) return row.status();
      rows.push_back(row.status().message());
      break;
    }
    if (!*row) break;
    std::string text;
    for (int i = 0; i < columns; ++i) {
      text += (i ? " " : "") + (stmt->IsNull(i) ? std::string("NULL") : stmt->Text(i));
    }
    rows.push_back(text);
  }
  return rows;
}

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
  auto start = std::chrono::steady_clock::now();
  auto integrity = PragmaRows(*conn, std::string("PRAGMA ") + name, 1);
  if (!integrity.ok()) {
    env.Fail(integrity.status());
    return env.exit_code;
  }
  bool ok = integrity->size() == 1 && integrity->front() == "ok";
  std::cout << name << ": " << (ok ? "ok" : "FAILED") << " (" << ElapsedMs(start) << " ms)\n";
  if (!ok) {
    for (const auto& line : *integrity) std::cout << "  " << line << "\n";
    return 1;  // foreign keys of a corrupt database mean nothing
  }
  auto fk = PragmaRows(*conn, "PRAGMA foreign_key_check", 4);
  if (!fk.ok()) {
    env.Fail(fk.status());
    return env.exit_code;
  }
  std::cout << "foreign_key_check: " << (fk->empty() ? "ok" : "FAILED") << "\n";
  for (size_t i = 0; i < fk->size() && i < 20; ++i) {
    std::cout << "  table rowid parent fkid: " << (*fk)[i] << "\n";
  }
  if (fk->size() > 20) std::cout << "  ... " << fk->size() - 20 << " more\n";
  return fk->empty() ? 0 : 1;
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
  cmd->callback([&env, full, db] { env.exit_code = RunCheck(env, *full, *db); });
}

}  // namespace maintd
