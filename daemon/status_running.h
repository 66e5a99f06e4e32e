#pragma once
// `status`'s view of the job a maintainer is running right now (issue 15): read from the
// maintainer lock file's activity line (lib/jobs/run_progress.h), which the holder
// (daemon or one-shot command) keeps while a job runs. Kept apart from cmd_status.cc so
// the status command's own code can change without touching this.

#include <string>

#include <nlohmann/json.hpp>

#include "lib/core/clock.h"
#include "lib/core/maintainer_lock.h"

namespace maintd {

// The "running" object for a database, or null when nothing runs: a line left by a holder
// that is no longer alive (its pid is gone) counts as nothing.
//   {"job": "vacuum", "pid": 4242, "since": "2026-11-30T12:00:00Z", "elapsed_seconds": 12,
//    "phase": "incremental", "done": 4200, "total": 10000, "unit": "pages",
//    "progress": 0.42}
// "progress" (done/total, 0..1) is null when the job gives no measure (total 0).
nlohmann::json RunningStatus(const std::string& db_path, const std::string& lock_dir,
                             SystemTime now);
// The same from a lock file already read (MaintainerLock::Read), so `status` reads each
// database's lock file once for both this and the integrity note.
nlohmann::json RunningStatus(const MaintainerLock::Content& lock, SystemTime now);

// " | running vacuum incremental 42% (4200/10000 pages) for 12s", or "" for null.
std::string RunningText(const nlohmann::json& running);

}  // namespace maintd
