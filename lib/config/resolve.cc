#include "lib/config/resolve.h"

#include <glob.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

namespace maintd {
namespace {

namespace fs = std::filesystem;

std::string Prefix(const Config& c) { return c.source.empty() ? "" : c.source + ": "; }

std::string EntryPath(size_t i) { return "databases[" + std::to_string(i) + "]"; }

std::string Normal(const std::string& path) {
  std::string n = fs::path(path).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

// The file's identity for duplicate detection: its real path when it exists.
std::string Identity(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return path;
  std::string out = real;
  ::free(real);
  return out;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "-20261122T030000Z.db" somewhere in the name: one of our backup files (or its temp file).
bool HasBackupStamp(const std::string& name) {
  static const std::string shape = "-########T######Z.db";  // # stands for a digit
  for (size_t start = 0; start + shape.size() <= name.size(); ++start) {
    bool match = true;
    for (size_t k = 0; k < shape.size() && match; ++k) {
      char want = shape[k], have = name[start + k];
      match = want == '#' ? std::isdigit(static_cast<unsigned char>(have)) != 0 : want == have;
    }
    if (match) return true;
  }
  return false;
}

// Glob matches that are not databases of their own.
bool SkipGlobMatch(const Config& config, const DatabaseConfig& entry, const std::string& path) {
  fs::path p(path);
  std::string name = p.filename().string();
  for (const char* suffix : {"-wal", "-shm", "-journal", "-maintd.lock"}) {
    if (EndsWith(name, suffix)) return true;
  }
  if (name.find(".pre-restore-") != std::string::npos || HasBackupStamp(name)) return true;
  std::string dir = p.parent_path().string();
  if (p.parent_path().filename() == "backups") return true;
  if (!entry.policy.backup.dir.empty() && Normal(dir) == Normal(entry.policy.backup.dir)) {
    return true;
  }
  if (config.journal != "target" && Normal(path) == Normal(config.journal)) return true;
  struct stat st {};
  return ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode);
}

struct Candidate {
  ResolvedDatabase db;
  std::string key_path;  // "databases[0].path" for messages
  std::string identity;
  bool exists = false;
  std::string problem;  // why it cannot be used ("" = fine)
};

ResolvedDatabase FromEntry(const DatabaseConfig& entry, const std::string& name,
                           const std::string& path) {
  ResolvedDatabase db;
  db.name = name;
  db.path = path;
  db.create_missing = entry.create_missing;
  db.policy = entry.policy;
  db.lease_requeue = entry.lease_requeue;
  db.retention = entry.retention;
  return db;
}

// Stat result of a path entry: "" when usable, else the reason.
std::string CheckPathEntry(const DatabaseConfig& entry, const std::string& path, bool* exists) {
  struct stat st {};
  *exists = false;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return entry.create_missing
                 ? ""
                 : path + " does not exist (set create_missing: true to create it)";
    }
    return "cannot access " + path + ": " + std::strerror(errno);
  }
  *exists = true;
  if (!S_ISREG(st.st_mode)) return path + " is not a regular file";
  return "";
}

// Every configured database, in config order. Problems of single entries are recorded in
// Candidate::problem; a glob(3) failure is returned.
Status Expand(const Config& config, std::vector<Candidate>* out) {
  for (size_t i = 0; i < config.databases.size(); ++i) {
    const DatabaseConfig& entry = config.databases[i];
    if (!entry.path.empty()) {
      Candidate c;
      std::string path = Normal(entry.path);
      std::string name = entry.name.empty() ? fs::path(path).stem().string() : entry.name;
      c.db = FromEntry(entry, name, path);
      c.key_path = EntryPath(i) + ".path";
      c.problem = CheckPathEntry(entry, path, &c.exists);
      c.identity = Identity(path);
      out->push_back(std::move(c));
      continue;
    }
    glob_t g{};
    int rc = ::glob(entry.glob.c_str(), GLOB_BRACE, nullptr, &g);
    if (rc != 0 && rc != GLOB_NOMATCH && rc != GLOB_ABORTED) {
      ::globfree(&g);
      return Status::Config(Prefix(config) + EntryPath(i) + ".glob: cannot expand '" + entry.glob +
                            "' (out of memory)");
    }
    if (rc == 0) out->reserve(out->size() + g.gl_pathc);  // 10,000 tenants: no regrowth
    for (size_t k = 0; rc == 0 && k < g.gl_pathc; ++k) {
      std::string path = Normal(g.gl_pathv[k]);
      if (SkipGlobMatch(config, entry, path)) continue;
      Candidate c;
      c.db = FromEntry(entry, fs::path(path).stem().string(), path);
      c.key_path = EntryPath(i) + ".glob";
      c.exists = true;
      c.identity = Identity(path);
      out->push_back(std::move(c));
    }
    ::globfree(&g);
  }
  return Status::Ok();
}

ResolvedDatabase WithDefaults(const Config& config, const std::string& name,
                              const std::string& path) {
  ResolvedDatabase db;
  db.name = name;
  db.path = path;
  db.policy = config.defaults;
  return db;
}

std::string AbsoluteNormal(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  return Normal(ec ? path : abs.string());
}

}  // namespace

Result<std::vector<ResolvedDatabase>> ResolveDatabases(const Config& config) {
  std::error_code ec;
  if (!config.lock_dir.empty() && !fs::is_directory(config.lock_dir, ec)) {
    return Status::Config(Prefix(config) + "lock_dir: " + config.lock_dir +
                          " is not an existing directory (create it, writable by the "
                          "daemon's user)");
  }
  std::vector<Candidate> all;
  MAINTD_RETURN_IF_ERROR(Expand(config, &all));
  std::map<std::string, size_t> by_identity, by_name;
  std::vector<ResolvedDatabase> out;
  out.reserve(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    const Candidate& c = all[i];
    if (!c.problem.empty()) return Status::Config(Prefix(config) + c.key_path + ": " + c.problem);
    auto [same_file, new_file] = by_identity.emplace(c.identity, i);
    if (!new_file) {
      return Status::Config(Prefix(config) + c.key_path + ": " + c.db.path + " is already " +
                            all[same_file->second].key_path +
                            " (a database may be listed only once)");
    }
    auto [same_name, new_name] = by_name.emplace(c.db.name, i);
    if (!new_name) {
      const Candidate& other = all[same_name->second];
      return Status::Config(Prefix(config) + c.key_path + ": two databases are named '" +
                            c.db.name + "' (" + other.db.path + " from " + other.key_path +
                            " and " + c.db.path + "); give one of them a name:");
    }
    for (size_t r = 0; r < c.db.retention.size(); ++r) {
      const std::string& archive = c.db.retention[r].archive_to;
      if (!archive.empty() && Identity(Normal(archive)) == c.identity) {
        return Status::Config(Prefix(config) + c.key_path.substr(0, c.key_path.rfind('.')) +
                              ".retention[" + std::to_string(r) + "].archive_to: " + archive +
                              " is the database itself");
      }
    }
    out.push_back(c.db);
  }
  return out;
}

Result<std::vector<ResolvedDatabase>> DatabasesFromPaths(const Config& config,
                                                         const std::vector<std::string>& paths) {
  std::vector<ResolvedDatabase> out;
  std::set<std::string> identities, names;
  for (const std::string& arg : paths) {
    std::string path = AbsoluteNormal(arg);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return Status::Config(path + ": " +
                            (errno == ENOENT
                                 ? std::string("no such database file")
                                 : std::string("cannot access: ") + std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) return Status::Config(path + ": is not a regular file");
    if (!identities.insert(Identity(path)).second) continue;
    std::string name = fs::path(path).stem().string();
    if (!names.insert(name).second) name = path;
    names.insert(name);
    out.push_back(WithDefaults(config, name, path));
  }
  return out;
}

Result<ResolvedDatabase> FindDatabase(const Config& config, const std::string& name_or_path) {
  std::vector<Candidate> all;
  MAINTD_RETURN_IF_ERROR(Expand(config, &all));
  auto usable = [&](const Candidate& c) -> Result<ResolvedDatabase> {
    if (!c.problem.empty()) return Status::Config(Prefix(config) + c.key_path + ": " + c.problem);
    return c.db;
  };
  for (const Candidate& c : all) {
    if (c.db.name == name_or_path) return usable(c);
  }
  if (name_or_path.empty()) return Status::InvalidArgument("empty database name or path");
  std::string path = AbsoluteNormal(name_or_path);
  std::string identity = Identity(path);
  for (const Candidate& c : all) {
    if (c.identity == identity || c.db.path == path) return usable(c);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": is not a regular file");
    return WithDefaults(config, fs::path(path).stem().string(), path);
  }
  return Status::InvalidArgument("'" + name_or_path +
                                 "' is neither the name of a configured database nor an "
                                 "existing database file (" +
                                 path + ")");
}

}  // namespace maintd
