#pragma once
// `status --summary`: one summary over many databases from the cheap reads only (stat, the
// 100-byte header, the maintainer lock file's note): no SQLite connection, no journal scan.
// For fleets of thousands of tenants, where `status` (a connection and a journal read per
// database) takes seconds; docs/performance.md, "Many databases".

#include <ostream>
#include <vector>

#include "lib/config/config.h"

namespace maintd {

// Prints the summary (text, or one JSON object) to `out`. Returns 0, or 1 when a database
// could not be read or is noted critical. Opens no SQLite connection (db_header.h's
// contract holds: this process has none).
int PrintStatusSummary(const Config& config, const std::vector<ResolvedDatabase>& dbs, bool json,
                       std::ostream& out);

}  // namespace maintd
