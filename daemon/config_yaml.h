#pragma once
// The YAML configuration loader (CONTRACT.md section 3). daemon/config_yaml*.cc are the only
// files that include yaml-cpp; everything else works on the plain structs of
// lib/config/config.h. docs/configuration.md is the user-facing reference of every key.
//
// All functions are thread-safe (no shared state; the environment is only read) and never
// throw: every YAML::Exception and std::exception is caught at this boundary. Every error is
// Status::Config (exit 78) with a message "<source>: <key path>: <reason>", e.g.
//   /etc/x.yaml: databases[0].checkpoint.evry: unknown key (did you mean 'every'?)
// Errors found before the YAML is parsed (environment expansion, bad encoding, YAML syntax)
// name a line instead of a key path: "/etc/x.yaml: line 3: ...".

#include <string>

#include "lib/config/config.h"
#include "lib/core/status.h"

namespace maintd {

// The embedded default (no file): Config{} with no databases.
Config DefaultConfig();

// Reads, expands (ExpandEnv), parses and validates the file at `path`. The result's `source`
// is `path`. Database files are not looked at here: ResolveDatabases (lib/config/resolve.h)
// checks that they exist. Files over 4 MiB are refused.
Result<Config> LoadConfigFile(const std::string& path);

// Same as LoadConfigFile for `text`; `source` is used in messages in place of the file name
// and stored in the result's `source`. An empty or comment-only text is the default config.
Result<Config> ParseConfigText(const std::string& text, const std::string& source);

// ${VAR} and ${VAR:-default} expansion from the environment (before YAML parsing): the
// default is used when VAR is unset or empty. An unset ${VAR} without default is a config
// error naming VAR and the line. `$$` is a literal `$`; a `$` followed by anything else is
// kept as is. Full-line comments (first non-blank character `#`) are copied unexpanded.
Result<std::string> ExpandEnv(const std::string& text, const std::string& source);

// The normalized config as YAML: every key with defaults filled in, units printed with
// FormatDuration / FormatSize / FormatTimeOfDay, each database with its merged policy.
// Optional keys that are unset (a rule's keep_where, archive_after, archive_to) are left out.
// Strings are double-quoted with `$` written as `$$`, so the output is itself a config that
// ParseConfigText loads to the same normalized text. Printed by `validate-config`.
std::string NormalizedYaml(const Config& config);

}  // namespace maintd
