#pragma once
// Read-only view of the journal for `status` (which takes no lock and writes nothing).

#include <optional>
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

// The newest row per check_type (per table for lease_requeue and retention) and the newest
// vacuum run for `db_path`, read through `conn` (the database itself or the central
// journal). Empty when the journal tables do not exist.
Result<std::vector<LastOutcome>> ReadLastOutcomes(Connection& conn, const std::string& db_path);

}  // namespace maintd
