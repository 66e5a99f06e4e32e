#pragma once
// What a maintainer is running right now, for those outside the process (issue 15).
//
// RunProgress is the ProgressSink the runner (MaintainedDatabase::Run) hands a job as
// JobContext::progress. It
//   - forwards every report to the caller's sink (MaintainerOptions::progress: the command
//     line's progress line), unthrottled (that sink throttles its own drawing);
//   - keeps the maintainer lock file's activity line (maintainer_lock.h) up to date:
//     written when the run starts, rewritten at most once per kActivityInterval (and on a
//     phase change), removed when the run ends. `status`, a separate process, reads it.
//
// The activity line, one line of space-separated key=value words:
//   running job=vacuum since=1764500000 phase=incremental done=4200 total=10000 unit=pages
// `since` is unix seconds (wall clock); done/total/unit/phase appear once the job has
// reported; phase is one word (spaces become '_').
//
// Thread-safety: Report() is called from the job's thread; Start/Finish from the runner's
// (the same thread). The forward sink and the write callback are called on that thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "lib/core/clock.h"
#include "lib/core/progress.h"

namespace maintd {

inline constexpr std::chrono::seconds kActivityInterval{1};

// One parsed activity line.
struct RunningActivity {
  std::string job;
  SystemTime since{};
  std::string phase;  // "" until the job reports
  uint64_t done = 0;
  uint64_t total = 0;  // 0: not measurable (or not reported yet)
  std::string unit;
  // done/total in [0, 1]; nullopt when total is 0.
  std::optional<double> fraction() const;
};

std::string FormatActivity(const RunningActivity& a);
std::optional<RunningActivity> ParseActivity(const std::string& line);

class RunProgress final : public ProgressSink {
 public:
  using WriteActivity = std::function<void(const std::string& line)>;  // "" = remove
  // `forward` may be null; `write` may be empty (beside another maintainer: not our file).
  RunProgress(std::string job, const Clock& clock, ProgressSink* forward, WriteActivity write);
  ~RunProgress() override;  // Finish()
  RunProgress(const RunProgress&) = delete;
  RunProgress& operator=(const RunProgress&) = delete;

  void Start();   // writes "running job=<job> since=<now>"
  void Finish();  // removes the line (once)
  void Report(std::string_view phase, uint64_t done, uint64_t total,
              std::string_view unit) override;

 private:
  RunningActivity activity_;
  const Clock& clock_;
  ProgressSink* forward_;
  WriteActivity write_;
  bool started_ = false;
  std::chrono::steady_clock::time_point last_write_{};
};

}  // namespace maintd
