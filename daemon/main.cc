// sqlite-maintd: one binary, subcommands (CONTRACT.md section 2). `run` is the default.
#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <iostream>
#include <string_view>

#include "daemon/commands.h"
#include "daemon/edit_distance.h"
#include "maintd_version.h"

namespace {

// `sqlite-maintd WORD` is `run WORD` when WORD can be a database path: it exists, or has a
// '/' or a '.' (app.db, ./app, data/app.sqlite). A bare word that is none of these is a
// mistyped command.
bool LooksLikeCommandWord(const std::string& word) {
  struct stat st;
  return word.find_first_of("/.") == std::string::npos && ::stat(word.c_str(), &st) != 0;
}

// "unknown command 'frobnicate'" with the closest command when it is close enough.
std::string UnknownCommandMessage(const std::string& word, const std::vector<std::string>& known) {
  std::string closest;
  size_t best = word.size();
  std::string all;
  for (const std::string& name : known) {
    all += (all.empty() ? "" : ", ") + name;
    size_t d = maintd::EditDistance(word, name);
    if (d < best) best = d, closest = name;
  }
  std::string message = "sqlite-maintd: unknown command '" + word + "'";
  if (!closest.empty() && best <= std::max<size_t>(2, closest.size() / 2)) {
    message += "; did you mean '" + closest + "'?";
  }
  return message + " (commands: " + all +
         "; a database path to maintain has a '/' or a '.', or exists)";
}

}  // namespace

int main(int argc, char** argv) {
  maintd::CommandEnv env;
  CLI::App app{"sqlite-maintd: keeps SQLite databases healthy while their applications run",
               "sqlite-maintd"};
  app.set_version_flag("--version", std::string("sqlite-maintd ") + MAINTD_VERSION);
  app.add_option("--config", env.globals.config_path,
                 "config file (default $SQLITE_MAINTD_CONFIG, then "
                 "/etc/sqlite-maintd/config.yaml, else the embedded default)");
  app.add_option("--log-level", env.globals.log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", env.globals.log_format, "text|json")
      ->check(CLI::IsMember({"text", "json"}));
  app.require_subcommand(0, 1);
  app.fallthrough();

  maintd::AddRunCommand(app, env);
  maintd::AddOnceCommand(app, env);
  maintd::AddStatusCommand(app, env);
  maintd::AddCheckCommand(app, env);
  maintd::AddCheckpointCommand(app, env);
  maintd::AddVacuumCommand(app, env);
  maintd::AddAnalyzeCommand(app, env);
  maintd::AddBackupCommands(app, env);
  maintd::AddRestoreCommand(app, env);
  maintd::AddValidateConfigCommand(app, env);

  // `sqlite-maintd` alone, or `sqlite-maintd app.db`, means `run`: find the first word that
  // is not a global option or its value, and insert "run" before it unless it names a
  // subcommand.
  auto takes_value = [](const std::string& a) {
    return a == "--config" || a == "--log-level" || a == "--log-format";
  };
  std::vector<std::string> args(argv + 1, argv + argc);
  size_t pos = 0;
  bool wants_help_or_version = false;
  while (pos < args.size() && !args[pos].empty() && args[pos][0] == '-') {
    const std::string& a = args[pos];
    if (a == "--help" || a == "-h" || a == "--version") wants_help_or_version = true;
    pos += takes_value(a) ? 2 : 1;
  }
  pos = std::min(pos, args.size());
  bool has_subcommand = false;
  std::vector<std::string> commands;
  for (const auto* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  if (pos < args.size()) {
    has_subcommand = std::count(commands.begin(), commands.end(), args[pos]) > 0;
    if (!has_subcommand && !wants_help_or_version && LooksLikeCommandWord(args[pos])) {
      std::cerr << UnknownCommandMessage(args[pos], commands) << "\n";
      return 2;
    }
  }
  if (!has_subcommand && !wants_help_or_version) {
    args.insert(args.begin() + static_cast<long>(pos), "run");
  }
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return env.exit_code;
}
