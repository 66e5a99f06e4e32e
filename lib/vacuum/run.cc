#include "lib/vacuum/run.h"

#include <cstdio>

#include "lib/core/units.h"
#include "lib/inspect/db_stats.h"
#include "lib/vacuum/predict.h"

namespace maintd {

const char* ToString(VacuumMethod m) {
  switch (m) {
    case VacuumMethod::kIncremental:
      return "incremental";
    case VacuumMethod::kFull:
      return "full";
    case VacuumMethod::kInto:
      return "into";
  }
  return "?";
}

nlohmann::json VacuumRun::Details() const {
  nlohmann::json j = {
      {"method", ToString(method)},           {"pages_freed", pages_freed},
      {"bytes_freed", bytes_freed},           {"duration_ms", duration_ms},
      {"max_lock_hold_ms", max_lock_hold_ms}, {"freelist_before", freelist_before},
      {"freelist_after", freelist_after},     {"file_size_before", file_size_before},
      {"file_size_after", file_size_after}};
  if (method == VacuumMethod::kIncremental) j["steps"] = steps;
  if (auto_vacuum_after >= 0) j["auto_vacuum"] = AutoVacuumName(auto_vacuum_after);
  if (checkpoint_busy) j["checkpoint_busy"] = true;
  if (!status.ok()) j["error"] = status.ToString();
  return j;
}

std::string VacuumRun::Summary() const {
  char hold[32];
  std::snprintf(hold, sizeof hold, "%.1f", max_lock_hold_ms);
  std::string s = method == VacuumMethod::kInto
                      ? "wrote a compacted copy (" + FormatSize(file_size_after) + ", " +
                            std::to_string(pages_freed) + " pages fewer) in "
                      : "freed " + std::to_string(pages_freed) + " pages (" +
                            FormatSize(bytes_freed) + " off the file) in ";
  s += std::to_string(duration_ms) + " ms";
  if (method == VacuumMethod::kIncremental) {
    s += " in " + std::to_string(steps) + " steps, longest lock hold " + hold + " ms";
  } else if (method == VacuumMethod::kFull) {
    s += " (writers waited throughout)";
  }
  if (method != VacuumMethod::kInto) {
    s += ", " + std::to_string(freelist_after) + " free pages left";
  }
  if (checkpoint_busy) s += "; the file shrinks fully at the next checkpoint";
  // An interrupted run's reason is the caller's to tell (e.g. the shutdown deadline).
  if (!status.ok() && status.code() != StatusCode::kInterrupted) s += "; " + status.ToString();
  return s;
}

std::vector<MetricRow> VacuumRun::Metrics(const std::string& log_type) const {
  nlohmann::json ctx = {{"method", ToString(method)}};
  if (!log_type.empty()) ctx["vacuum_type"] = log_type;
  if (log_id > 0) ctx["vacuum_log_id"] = log_id;
  std::vector<MetricRow> rows = {
      {kVacuumPagesFreedMetric, static_cast<double>(pages_freed), "pages", ctx},
      {kVacuumBytesFreedMetric, static_cast<double>(bytes_freed), "bytes", ctx},
      {kVacuumDurationMetric, static_cast<double>(duration_ms), "ms", ctx},
      {kVacuumMaxLockHoldMetric, max_lock_hold_ms, "ms", ctx},
  };
  if (method != VacuumMethod::kIncremental && status.ok() && started) {
    int64_t live = (page_count_before - freelist_before) * page_size;
    rows.push_back(FullVacuumRateMetric(live, duration_ms));
  }
  return rows;
}

VacuumRun ExecuteVacuum(Connection& conn, Journal* journal, const VacuumRequest& req,
                        StopToken& stop, const Clock& clock) {
  VacuumRun run;
  run.method = req.method;
  FullVacuumOptions full = req.full;
  if (req.method == VacuumMethod::kFull) full.into.clear();
  if (req.method != VacuumMethod::kIncremental) {
    if (req.method == VacuumMethod::kInto && full.into.empty()) {
      run.status = Status::InvalidArgument("VACUUM INTO needs a target path");
      return run;
    }
    // Refusals happen before any row is written.
    auto stats = ReadDbStats(conn);
    if (!stats.ok()) {
      run.status = stats.status();
      return run;
    }
    run.status = CheckFullVacuumAllowed(conn.path(), *stats, full);
    if (!run.status.ok()) return run;
  }
  bool logged = journal != nullptr && req.method != VacuumMethod::kInto;
  if (logged) {
    auto id = journal->BeginVacuum(req.log_type);
    if (id.ok())
      run.log_id = *id;
    else
      run.journal_status = id.status();
  }
  run.started = true;
  if (req.method == VacuumMethod::kIncremental) {
    IncrementalOutcome o = RunIncrementalVacuum(conn, req.incremental, stop, clock);
    run.status = o.status;
    run.pages_freed = o.pages_freed;
    run.duration_ms = o.duration_ms;
    run.max_lock_hold_ms = o.max_lock_hold_ms;
    run.steps = o.steps;
    run.page_size = o.page_size;
    run.freelist_before = o.freelist_before;
    run.freelist_after = o.freelist_after;
    run.file_size_before = o.file_size_before;
    run.file_size_after = o.file_size_after;
    run.checkpoint_busy = o.checkpoint_busy;
  } else {
    FullVacuumOutcome o = RunFullVacuum(conn, full, stop, clock);
    run.status = o.status;
    run.started = o.started;
    run.pages_freed = o.pages_freed();
    run.duration_ms = o.duration_ms;
    run.max_lock_hold_ms = req.method == VacuumMethod::kFull ? o.duration_ms : 0;
    run.page_size = o.page_size;
    run.page_count_before = o.pages_before;
    run.freelist_before = o.freelist_before;
    run.freelist_after = o.freelist_after;
    run.file_size_before = o.bytes_before;
    run.file_size_after = o.bytes_after;
    run.checkpoint_busy = o.checkpoint_busy;
    run.auto_vacuum_after = o.auto_vacuum_after;
  }
  run.bytes_freed = run.method == VacuumMethod::kInto
                        ? run.file_size_before - run.file_size_after
                        : std::max<int64_t>(0, run.file_size_before - run.file_size_after);
  if (logged && run.log_id > 0) {
    VacuumResult r;
    r.completed = run.status.ok();
    r.pages_freed = run.pages_freed;
    r.bytes_freed = run.bytes_freed;
    r.duration_ms = run.duration_ms;
    if (run.status.code() == StatusCode::kInterrupted) {
      r.error_message = req.interrupted_message;
    } else if (!run.status.ok()) {
      r.error_message = run.status.ToString();
    }
    Status s = journal->FinishVacuum(run.log_id, r);
    if (!s.ok()) run.journal_status = s;
  }
  return run;
}

}  // namespace maintd
