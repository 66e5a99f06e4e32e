#pragma once
// One vacuum run as the journal sees it (CONTRACT.md section 7): shared by the vacuum job,
// the shutdown vacuum and the `vacuum` command.
//
// ExecuteVacuum checks the full-VACUUM rules first (a refused run writes no row), then
// inserts the `running` sqlite_vacuum_log row, does the work, and updates the row to
// `completed` or `failed` (pages_freed, bytes_freed = main file size before minus after,
// duration_ms, error_message). VACUUM INTO writes no row: it does not change the database.
// A journal write that fails is reported in `journal_status`, never fails the vacuum.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/journal/journal.h"
#include "lib/sqlite/connection.h"
#include "lib/sqlite/stop_token.h"
#include "lib/vacuum/full.h"
#include "lib/vacuum/incremental.h"

namespace maintd {

enum class VacuumMethod { kIncremental, kFull, kInto };
const char* ToString(VacuumMethod m);

// Metric names of a run (sqlite_performance_metrics; the HTTP metrics read them from the
// report too).
constexpr char kVacuumPagesFreedMetric[] = "vacuum.pages_freed";
constexpr char kVacuumBytesFreedMetric[] = "vacuum.bytes_freed";
constexpr char kVacuumDurationMetric[] = "vacuum.duration_ms";
constexpr char kVacuumMaxLockHoldMetric[] = "vacuum.max_lock_hold_ms";

struct VacuumRequest {
  VacuumMethod method = VacuumMethod::kIncremental;
  std::string log_type = "auto";  // vacuum_type of the row: auto | incremental | full
  IncrementalOptions incremental;
  FullVacuumOptions full;  // for kFull and kInto (full.into is set from `method`)
  // error_message of the row when the run stopped early or was interrupted (stop token,
  // deadline): e.g. "interrupted by shutdown deadline".
  std::string interrupted_message = "stopped before completion (stop requested)";
};

struct VacuumRun {
  VacuumMethod method = VacuumMethod::kIncremental;
  Status status;         // Refused (no row, nothing changed), Busy, Interrupted, errors
  bool started = false;  // work began (and a row was written, unless kInto)
  int64_t log_id = 0;    // sqlite_vacuum_log id, 0 = none
  Status journal_status;
  int64_t pages_freed = 0;
  int64_t bytes_freed = 0;  // main file before minus after (can be 0 until a checkpoint)
  int64_t duration_ms = 0;
  double max_lock_hold_ms = 0;  // longest write-lock hold (a full VACUUM holds it throughout)
  int64_t steps = 0;
  int64_t page_size = 0;
  int64_t page_count_before = 0;  // full only
  int64_t freelist_before = 0;
  int64_t freelist_after = 0;
  int64_t file_size_before = 0;
  int64_t file_size_after = 0;  // for kInto: the copy's size
  bool checkpoint_busy = false;
  int64_t auto_vacuum_after = -1;  // full only

  // {"method":..., "pages_freed":..., ...} for reports and the CLI's --json.
  nlohmann::json Details() const;
  // "freed 1200 pages (4800KiB off the file) in 840 ms in 9 steps, longest lock hold
  // 12.3 ms, 0 free pages left"; a failure's status is appended, except kInterrupted.
  std::string Summary() const;
  // vacuum.* metric rows (plus the rate row of predict.h for a completed full VACUUM).
  std::vector<MetricRow> Metrics(const std::string& log_type) const;
};

// `conn`: read-write, outside any transaction, registered with `stop`. `journal` may be
// null (nothing is written). Pauses and the deadline are on `clock`. Blocking.
VacuumRun ExecuteVacuum(Connection& conn, Journal* journal, const VacuumRequest& request,
                        StopToken& stop, const Clock& clock = RealClock::Instance());

}  // namespace maintd
