#pragma once
// Read-only view of the journal for `status` (which takes no lock and writes nothing).
// Each function reads with ONE statement (the newest row per job and the newest vacuum
// run together), so a status sweep over thousands of databases costs one query each.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/core/status.h"
#include "lib/sqlite/connection.h"

namespace maintd {

struct LastOutcome {
  std::string job;     // check_type, "vacuum", or "<check_type>:<table>" for rule jobs
  std::string status;  // healthy|warning|critical, or completed|failed|running for vacuum
  std::string at;      // UTC "YYYY-MM-DD HH:MM:SS"
  nlohmann::json details = nlohmann::json::object();
};

// What a database's own journal and schema say: its last outcomes and whether Litestream
// manages it (a `_litestream_seq` table).
struct JournalView {
  std::vector<LastOutcome> outcomes;
  bool litestream = false;
};

// The newest row per check_type (per table for lease_requeue and retention) and the newest
// vacuum run for `db_path`, read through `conn` (the database itself or the central
// journal), in no particular order. Empty when the journal tables do not exist.
Result<std::vector<LastOutcome>> ReadLastOutcomes(Connection& conn, const std::string& db_path);

// ReadLastOutcomes and the Litestream flag of the database `conn` is open on, in one
// statement when the journal tables exist (a second one, on sqlite_master, when not).
// With `details` false the outcomes' details stay empty objects (not parsed: for callers
// that show only the status and time, such as `status` without --json).
Result<JournalView> ReadJournalView(Connection& conn, const std::string& db_path,
                                    bool details = true);

// A central journal's newest outcomes of every database in `db_paths`, by path, in one
// statement (a scan of the journal tables, which have no index: one scan for all rather
// than one per database). Paths without rows are absent from the map.
Result<std::map<std::string, std::vector<LastOutcome>>> ReadLastOutcomesByDatabase(
    Connection& conn, const std::set<std::string>& db_paths);

}  // namespace maintd
