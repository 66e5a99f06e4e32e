// The boundary of the YAML loader: file reading, the top level and `databases:`. Every
// exception from yaml-cpp (and std::bad_alloc) stops in ParseConfigText.
#include "daemon/config_yaml.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "daemon/config_yaml_internal.h"

namespace maintd {
namespace {

using namespace yaml_config;

constexpr size_t kMaxConfigBytes = 4 << 20;

const Hints kTopHints = {
    {"busy_timeout", "it belongs under defaults: or a databases: entry"},
    {"checkpoint", "it belongs under defaults: or a databases: entry"},
    {"analyze", "it belongs under defaults: or a databases: entry"},
    {"vacuum", "it belongs under defaults: or a databases: entry"},
    {"health", "it belongs under defaults: or a databases: entry"},
    {"backup", "it belongs under defaults: or a databases: entry"},
    {"journal_retention", "it belongs under defaults: or a databases: entry"},
    {"lease_requeue", "it belongs in a databases: entry"},
    {"retention", "it belongs in a databases: entry"},
    {"path", "it belongs in a databases: entry"},
    {"glob", "it belongs in a databases: entry"},
};
const Hints kDefaultsHints = {
    {"lease_requeue", "rules are allowed only in a databases: entry"},
    {"retention", "rules are allowed only in a databases: entry"},
    {"name", "allowed only in a databases: entry"},
    {"path", "allowed only in a databases: entry"},
    {"glob", "allowed only in a databases: entry"},
    {"create_missing", "allowed only in a databases: entry"},
};
const Hints kDatabaseHints = {
    {"defaults", "a database entry lists its overrides directly, e.g. checkpoint: { every: 1m }"},
    {"shutdown", "shutdown: is a top-level key"},
    {"journal", "journal: is a top-level key"},
};

Reader HttpListen(std::string* out, bool* given) {
  return [out, given](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "host:port or \"\"", &text));
    if (!text.empty()) {
      auto colon = text.rfind(':');
      std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
      std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
      bool port_ok = !port.empty() && port.size() <= 5 &&
                     port.find_first_not_of("0123456789") == std::string::npos &&
                     std::stoi(port) >= 0 && std::stoi(port) <= 65535;  // 0: any free port
      bool host_ok = !host.empty() && (host[0] != '[' || host.back() == ']') &&
                     host.find_first_of(" \t/") == std::string::npos;
      if (!port_ok || !host_ok) {
        return KeyError(path, "'" + text +
                                  "' is not host:port (e.g. 127.0.0.1:9187, [::1]:9187, or \"\" "
                                  "to disable HTTP)");
      }
    }
    *out = text;
    *given = true;
    return Status::Ok();
  };
}

Reader JournalReader(std::string* out) {
  return [out](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "\"target\" or an absolute path", &text));
    if (text == "target") {
      *out = text;
      return Status::Ok();
    }
    if (text.empty() || text[0] != '/') {
      return KeyError(path, "'" + text +
                                "' is neither \"target\" nor an absolute path (after ${VAR} "
                                "expansion)");
    }
    return AbsolutePath(out, false)(node, path);
  };
}

Status CheckName(const std::string& name, const std::string& path) {
  if (name == "." || name == "..") return KeyError(path, "'" + name + "' is not a valid name");
  for (unsigned char c : name) {
    if (c == '/' || c == ' ' || c == '\t' || c < 0x20) {
      return KeyError(path, "'" + name + "' must not contain '/', spaces or control characters");
    }
  }
  return Status::Ok();
}

Status ReadDatabase(const YAML::Node& node, const std::string& path, const DatabasePolicy& defaults,
                    DatabaseConfig* db) {
  db->policy = defaults;
  std::optional<std::string> name;
  std::vector<Field> fields = PolicyFields(&db->policy);
  std::vector<Field> own = {
      {"name",
       [&name](const YAML::Node& value, const std::string& key_path) -> Status {
         std::string text;
         MAINTD_RETURN_IF_ERROR(String(&text, false)(value, key_path));
         MAINTD_RETURN_IF_ERROR(CheckName(text, key_path));
         name = text;
         return Status::Ok();
       }},
      {"path", AbsolutePath(&db->path, false)},
      {"glob", AbsolutePath(&db->glob, false)},
      {"create_missing", Bool(&db->create_missing)},
      {"lease_requeue", LeaseRequeueRules(&db->lease_requeue)},
      {"retention", RetentionRules(&db->retention)},
  };
  fields.insert(fields.begin(), own.begin(), own.end());
  if (!node.IsDefined() || node.IsNull()) {
    return KeyError(path, "empty database entry (give path: or glob:)");
  }
  MAINTD_RETURN_IF_ERROR(ReadMap(node, path, fields, &kDatabaseHints));
  if (db->path.empty() == db->glob.empty()) {
    return KeyError(path, db->path.empty() ? "needs exactly one of path: or glob:, found neither"
                                           : "needs exactly one of path: or glob:, found both");
  }
  if (!db->glob.empty()) {
    if (name.has_value()) {
      return KeyError(ChildPath(path, "name"),
                      "not allowed with glob: (each matched file is named after its file stem)");
    }
    if (db->create_missing) {
      return KeyError(ChildPath(path, "create_missing"),
                      "not allowed with glob: (a glob only matches files that exist)");
    }
  } else {
    db->name = name.value_or(std::filesystem::path(db->path).stem().string());
    if (db->name.empty()) {
      return KeyError(ChildPath(path, "path"), "'" + db->path + "' has no file name");
    }
  }
  return CheckPolicy(db->policy, path);
}

Status ReadConfig(const YAML::Node& root, Config* c) {
  YAML::Node defaults_node, databases_node;
  auto keep = [](YAML::Node* slot) {
    return [slot](const YAML::Node& value, const std::string&) {
      *slot = value;
      return Status::Ok();
    };
  };
  MAINTD_RETURN_IF_ERROR(ReadMap(
      root, "",
      {
          {"log",
           Section({{"level", OneOf(&c->log_level, {"trace", "debug", "info", "warn", "error"})},
                    {"format", Enum(&c->log_format, {LogFormat::kText, LogFormat::kJson})}})},
          {"http", Section({{"listen", HttpListen(&c->http_listen, &c->http_listen_given)},
                            {"metrics", Enum(&c->http_metrics, {MetricsDetail::kFull,
                                                                MetricsDetail::kSummary})}})},
          {"max_concurrent_jobs", Int(&c->max_concurrent_jobs, 1)},
          {"journal", JournalReader(&c->journal)},
          {"lock_dir", AbsolutePath(&c->lock_dir, true)},
          {"glob_rescan_every", Duration(&c->glob_rescan_every)},
          {"shutdown",
           Section({{"deadline", Duration(&c->shutdown.deadline)},
                    {"vacuum",
                     Enum(&c->shutdown.vacuum, {ShutdownVacuum::kIncremental, ShutdownVacuum::kFull,
                                                ShutdownVacuum::kNone})},
                    {"checkpoint",
                     Enum(&c->shutdown.checkpoint, {CheckpointMode::kNone, CheckpointMode::kPassive,
                                                    CheckpointMode::kTruncate})},
                    {"analyze", Bool(&c->shutdown.analyze)}})},
          {"defaults", keep(&defaults_node)},
          {"databases", keep(&databases_node)},
      },
      &kTopHints));
  MAINTD_RETURN_IF_ERROR(
      ReadMap(defaults_node, "defaults", PolicyFields(&c->defaults), &kDefaultsHints));
  MAINTD_RETURN_IF_ERROR(CheckPolicy(c->defaults, "defaults"));
  MAINTD_RETURN_IF_ERROR(
      ReadList(databases_node, "databases", [c](const YAML::Node& item, const std::string& path) {
        DatabaseConfig db;
        MAINTD_RETURN_IF_ERROR(ReadDatabase(item, path, c->defaults, &db));
        c->databases.push_back(std::move(db));
        return Status::Ok();
      }));
  // Names and paths must be unique; the central journal is not one of the databases.
  for (size_t i = 0; i < c->databases.size(); ++i) {
    const DatabaseConfig& db = c->databases[i];
    std::string path = IndexPath("databases", i);
    for (size_t j = 0; j < i; ++j) {
      const DatabaseConfig& other = c->databases[j];
      if (!db.name.empty() && db.name == other.name) {
        return KeyError(ChildPath(path, "name"), "'" + db.name + "' is already the name of " +
                                                     IndexPath("databases", j) +
                                                     " (names default to the file stem)");
      }
      if (!db.path.empty() && db.path == other.path) {
        return KeyError(ChildPath(path, "path"),
                        "'" + db.path + "' is already listed as " + IndexPath("databases", j));
      }
    }
    if (!db.path.empty() && db.path == c->journal) {
      return KeyError("journal", "'" + c->journal + "' is also " + path + ".path");
    }
  }
  return Status::Ok();
}

}  // namespace

Config DefaultConfig() { return Config{}; }

Result<Config> ParseConfigText(const std::string& raw_text, const std::string& source) {
  try {
    if (raw_text.size() > kMaxConfigBytes) {
      return Status::Config(source + ": larger than 4 MiB; not a config file?");
    }
    std::string text = raw_text;
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // UTF-8 byte order mark
    MAINTD_RETURN_IF_ERROR(CheckEncoding(text, source, ""));
    auto expanded = ExpandEnv(text, source);
    if (!expanded.ok()) return expanded.status();
    MAINTD_RETURN_IF_ERROR(CheckEncoding(*expanded, source, " (after ${VAR} expansion)"));

    auto root = LoadOneDocument(*expanded, source);
    if (!root.ok()) return root.status();
    Config config = DefaultConfig();
    config.source = source;
    Status s = ReadConfig(*root, &config);
    if (!s.ok()) return Status::Config(source + ": " + s.message());
    return config;
  } catch (const YAML::Exception& e) {
    return Status::Config(source + ": invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return Status::Config(source + ": cannot read the config: " + e.what());
  } catch (...) {
    return Status::Config(source + ": cannot read the config");
  }
}

Result<Config> LoadConfigFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Config(path + ": cannot read the config file: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::Config(path + ": is not a regular file");
  if (static_cast<size_t>(st.st_size) > kMaxConfigBytes) {
    return Status::Config(path + ": larger than 4 MiB; not a config file?");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Status::Config(path + ": cannot read the config file: " + std::strerror(errno));
  }
  std::string text;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxConfigBytes) break;
  }
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::Config(path + ": cannot read the config file: read error");
  return ParseConfigText(text, path);
}

}  // namespace maintd
