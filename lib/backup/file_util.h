#pragma once
// Durable file operations used by backup and restore: fsync of files and directories,
// byte copies that are fsynced before they return, rename without replacing, and the
// `file:` URI SQLite needs to open a path with query parameters.
//
// These functions open() and close() the files they are given. SQLite drops a process's
// POSIX locks on a file when any descriptor to it is closed (SQLITE_FACTS.md), so they must
// only be called on files this process does not have open through an SQLite connection
// (backup files, temp files, a database the restore command has no connection to).

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/core/progress.h"
#include "lib/core/status.h"

namespace maintd {

// fsync(2) of a file / of a directory (so a rename or a new entry in it is durable).
Status FsyncFile(const std::string& path);
Status FsyncDir(const std::string& dir);

// Creates directory `dir` and missing parents with `mode` (existing ones are left alone).
Status MakeDirs(const std::string& dir, mode_t mode);

// Copies `from` to `to` byte for byte and fsyncs `to` before returning. `to` must not exist
// (O_EXCL); it is created with `mode`. On error `to` is removed. Returns the bytes copied.
// `progress` (may be null) is told `phase`, bytes copied of the source's size, per chunk.
Result<int64_t> CopyFileDurable(const std::string& from, const std::string& to, mode_t mode,
                                ProgressSink* progress = nullptr,
                                std::string_view phase = "copy");

// Writes `content` to `path` atomically and durably: a temp file beside it, fsync, rename,
// fsync of the directory.
Status WriteFileDurable(const std::string& path, const std::string& content, mode_t mode);

// rename(2) that fails (IoError, "exists") instead of replacing an existing `to`.
Status RenameNoReplace(const std::string& from, const std::string& to);

// Removes `path`; ok when it does not exist.
Status RemoveIfExists(const std::string& path);

// "/a/b/c.db" -> "c.db".
std::string BaseName(const std::string& path);

// `file:` URI for `path` with `query` ("immutable=1"), percent-encoding what URIs need.
std::string SqliteFileUri(const std::string& path, const std::string& query);

// st_mode & 07777 of `path`; NotFound when it does not exist.
Result<mode_t> FileMode(const std::string& path);

}  // namespace maintd
