#pragma once
// The JSON object `status` prints for one database (CONTRACT.md section 2; docs/runbook.md
// shows both forms). Read-only: takes no lock, writes nothing.
//
// Two ways to the same content (issue 14: `status` over 10,000 tenants):
//   - at rest (lib/inspect/resting_database.h: WAL empty, no write under way, file left
//     alone for a while): figures from the 100-byte header and stat, the journal and the
//     Litestream flag from one immutable read (no lock, no -wal/-shm created), the WAL
//     object all zeros (an empty WAL has no frames and no reader pinning it);
//   - otherwise, or when the files changed during that read, or it failed: a read-only
//     connection as before (header pragmas, one journal statement, the wal-index probe).
// Errors are always reported by the second way, so they read as before.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/journal/journal_reader.h"

namespace maintd {

// A central journal's outcomes of the databases being shown (ReadLastOutcomesByDatabase),
// or its error; unused with `journal: target`.
// Empty when the central journal does not exist yet.
struct CentralOutcomes {
  Result<std::map<std::string, std::vector<LastOutcome>>> by_path =
      std::map<std::string, std::vector<LastOutcome>>{};
};

// What one status sweep shares between its databases (read only while it runs).
struct StatusSweep {
  const Config* config = nullptr;
  CentralOutcomes central;
  SystemTime now;
  // false: the jobs' "details" may be left empty (the text line does not show them).
  bool job_details = true;
};

// The status object of `db`. Thread-safe (different databases on different threads).
nlohmann::json DatabaseStatus(const StatusSweep& sweep, const ResolvedDatabase& db);

}  // namespace maintd
