#include "lib/inspect/resting_database.h"

#include <sys/stat.h>

#include "lib/inspect/db_stats.h"
#include "lib/sqlite/open_files.h"

namespace maintd {

namespace {

SystemTime FromNanos(int64_t ns) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(ns)));
}

// A rollback journal with content: a write transaction is under way (or was cut short and
// the next connection rolls it back). Absent and empty (journal_mode=truncate) are fine.
bool JournalHasContent(const std::string& path) { return FileSize(path + "-journal") > 0; }

}  // namespace

std::optional<RestingDatabase> ReadIfAtRest(const std::string& path, SystemTime now,
                                            std::chrono::milliseconds settle) {
  RestingDatabase r;
  r.signature = ReadFileSignature(path);
  const FileSignature& sig = r.signature;
  if (!sig.exists || !sig.header_known || sig.size == 0) return std::nullopt;
  if (sig.wal_exists && sig.wal_size > 0) return std::nullopt;
  if (JournalHasContent(path)) return std::nullopt;
  const SystemTime quiet_since = now - settle;
  if (FromNanos(sig.mtime_ns) > quiet_since || FromNanos(sig.ctime_ns) > quiet_since) {
    return std::nullopt;
  }
  std::optional<Result<DbHeader>> header;
  // The one door for a plain read of a database file (open_files.h).
  ReadIfNoConnectionOpen(path, [&](const struct stat&) { header = ReadDbHeader(path); });
  if (!header || !header->ok() || (*header)->page_size == 0) return std::nullopt;
  r.header = **header;
  // Bytes 18/19: 1 rollback journal, 2 WAL; anything else SQLite treats specially.
  for (int v : {r.header.read_version, r.header.write_version}) {
    if (v != 1 && v != 2) return std::nullopt;
  }
  // The signature's header fields and this header come from two reads: they must agree.
  if (r.header.file_size != sig.size || r.header.header_page_count != sig.page_count ||
      r.header.freelist_count != sig.freelist_count) {
    return std::nullopt;
  }
  return r;
}

Result<bool> ReadWhileAtRest(const std::string& path, const RestingDatabase& before,
                             const std::function<Status(Connection&)>& read) {
  {
    OpenOptions options;
    options.immutable = true;
    auto conn = Connection::Open(path, options);
    if (!conn.ok()) return conn.status();
    Status s = read(*conn);
    if (!s.ok()) return s;
  }  // closed here: the signature below reads the header through the registry
  return ReadFileSignature(path).SameAs(before.signature) && !JournalHasContent(path);
}

}  // namespace maintd
