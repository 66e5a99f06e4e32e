#pragma once
// The database file's 100-byte header read with one pread, without SQLite: backup
// verification (lib/backup/verify.h) checks a copy with it before SQLite reads past a
// truncated end, and `status --summary` sweeps thousands of databases with it, where a
// connection per database costs ~1 ms of creating and removing its -wal and -shm.
//
// Contract: the caller must hold NO SQLite connection to `path` in this process while this
// runs. Closing the plain descriptor drops every POSIX lock this process holds on the
// file, SQLite's included (SQLITE_FACTS.md, "Locks and busy"). Backups and temp files, and
// read-only commands that open no connection of their own, satisfy it; the daemon's jobs
// do not: they use ReadDbStats (db_stats.h) through their connection.
//
// The header is the state of the last checkpoint: with frames in the -wal, the page count
// and the free-page count may be out of date.

#include <cstdint>
#include <string>

#include "lib/core/status.h"

namespace maintd {

struct DbHeader {
  int64_t file_size = 0;
  int64_t page_size = 0;
  int64_t change_counter = 0;       // bytes 24..27
  int64_t header_page_count = 0;    // bytes 28..31
  bool header_count_valid = false;  // change counter == version-valid-for (fileformat2)
  int read_version = 0;             // byte 18: 1 rollback journal, 2 WAL
  int write_version = 0;            // byte 19
  int64_t freelist_count = 0;       // bytes 36..39
  int64_t auto_vacuum = 0;          // as PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental
  int64_t expected_size() const { return header_page_count * page_size; }
  bool wal() const { return read_version == 2 && write_version == 2; }
  double free_ratio() const {
    return header_page_count > 0 ? static_cast<double>(freelist_count) / header_page_count : 0.0;
  }
};

// Reads the 100-byte header. Corrupt when the file is not an SQLite database, its page size
// is invalid, or its size does not match the header (truncated or padded). An empty file
// (a valid empty database) gives page_size 0. NotFound when it does not exist.
Result<DbHeader> ReadDbHeader(const std::string& path);

// Decodes and checks the first `n` bytes of a database file of `file_size` bytes (the same
// rules as ReadDbHeader, which reads them; `path` only names the file in errors). For
// readers that got the bytes another way (FileSignature: through the open-files registry).
Result<DbHeader> ParseDbHeader(const unsigned char* h, size_t n, int64_t file_size,
                               const std::string& path);

}  // namespace maintd
