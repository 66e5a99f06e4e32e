#pragma once
// How long work tells the world how far it has got (issue 15): the one small interface
// every job reports through (JobContext::progress, lib/jobs/job.h). The runner
// (MaintainedDatabase::Run) fans a run's reports out to the maintainer lock file's
// "running" line (what `status` shows) and to the caller's sink (the command line's
// progress line, daemon/progress_line.h).
//
// Contract for reporters: call Report() from the job's own thread, as often as is cheap
// (every step, every batch): sinks throttle themselves, so a report costs a few clock reads
// at most. `done` never exceeds `total` (clamp before reporting); total 0 means "not
// measurable" (a full VACUUM's rebuild, an integrity_check without a page count): only the
// phase is shown then. A new phase may restart done at 0. `unit` names what is counted:
// "pages", "bytes", "rows", "steps".
//
// Contract for sinks: Report() must not throw and must return quickly; it is called with
// no SQLite lock assumed either way (it may be inside a transaction), so it never touches
// the database.

#include <cstdint>
#include <string_view>

namespace maintd {

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void Report(std::string_view phase, uint64_t done, uint64_t total,
                      std::string_view unit) = 0;
};

// Null-safe helper for code whose sink is optional.
inline void ReportProgress(ProgressSink* sink, std::string_view phase, uint64_t done,
                           uint64_t total, std::string_view unit) {
  if (sink != nullptr) sink->Report(phase, done > total && total > 0 ? total : done, total, unit);
}

}  // namespace maintd
