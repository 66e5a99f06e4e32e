#pragma once
// From configured `databases:` entries (and command-line paths) to the concrete databases
// the daemon and the commands work on. No YAML here: this works on lib/config/config.h.
//
// All functions only read the file system (stat, glob(3), realpath); they are thread-safe.
// Errors are Status::Config (exit 78) and start with "<config.source>: " when the config
// came from a file, e.g. "/etc/x.yaml: databases[0].path: /data/a.db does not exist ...".

#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/core/status.h"

namespace maintd {

// Expands `path` and `glob` entries into concrete databases, in config order (glob matches
// sorted). Glob matches skip the files that are not databases of their own: -wal, -shm,
// -journal and -maintd.lock files, our backups (`<stem>-<yyyymmddThhmmssZ>.db...`, anything
// in a `backups` dir or the entry's backup.dir), `.pre-restore-` copies, the central
// journal, and anything that is not a regular file. `name` defaults to the file stem. Two
// entries reaching the same file (same path after symlinks are resolved) or the same name
// are an error. A `path` that does not exist is an error unless create_missing (then it is
// kept, with create_missing set, and created later by the daemon); one that exists but is
// not a regular file is always an error. A glob that matches nothing is fine (tenants may
// appear later). A `lock_dir` that is not an existing directory is an error too.
Result<std::vector<ResolvedDatabase>> ResolveDatabases(const Config& config);

// Databases given on the command line (`run a.db b.db`) with the default policy of `config`
// (config.defaults, no rules); relative paths are made absolute against the current
// directory. A missing (or non-regular) file is a Config error. The same path given twice
// is kept once. The name is the file stem; when two stems collide the later database is
// named by its absolute path instead.
Result<std::vector<ResolvedDatabase>> DatabasesFromPaths(const Config& config,
                                                         const std::vector<std::string>& paths);

// A `DB` argument of a command: the name of a configured database first, then a path. A
// path that is a configured database (same file) gets that database's policy and rules;
// any other existing file gets the default policy as in DatabasesFromPaths. A configured
// database whose file is missing is an error unless create_missing. Neither a configured
// name nor an existing file: InvalidArgument (a usage error, exit 2) naming both tries.
Result<ResolvedDatabase> FindDatabase(const Config& config, const std::string& name_or_path);

}  // namespace maintd
