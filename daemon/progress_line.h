#pragma once
// The command line's live progress line (issue 15): what a one-shot command's job reports
// through ProgressSink (lib/core/progress.h), redrawn in place on a terminal, like rsync's
// --progress or pv:
//   vacuum incremental: 4200/10000 pages (42%) 2100 pages/s ETA 3s
//   backup copy: 96.0 MiB/256.0 MiB (37%) 410.2 MiB/s ETA 0s
//   check integrity_check: 12s
// (phase only, with the time it has taken, when the job has no measure).
//
// It goes to stderr: stdout carries the command's result line that scripts parse, so
// `out=$(sqlite-maintd vacuum app.db)` on a terminal still shows the progress and captures
// only the result. By default (ProgressMode::kAuto) it is drawn only when stderr is a
// terminal: nothing at all under cron, systemd or a pipe. --progress draws it anyway,
// --no-progress never.
//
// Drawing: a background thread redraws at most every kRedrawInterval from the newest
// report (`\r`, the line, erase to the end of line), so a job may report as often as it
// likes; Clear() erases the line before the result is printed.
//
// Thread-safety: Report() from any thread (the job's); SetLabel/Clear from the command's
// thread. mu_ guards the state below it.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <CLI/CLI.hpp>

#include "lib/core/progress.h"

namespace maintd {

class CommandEnv;

enum class ProgressMode { kAuto, kOn, kOff };

// Adds --progress / --no-progress to a subcommand (the one place commands get them); the
// choice lands in env.progress.
void AddProgressFlags(CLI::App* command, CommandEnv& env);

inline constexpr std::chrono::milliseconds kRedrawInterval{200};

// One drawn line (no \r): "<label> <phase>: <done>/<total> <unit> (p%) <rate>/s ETA ...".
std::string FormatProgressLine(std::string_view label, std::string_view phase, uint64_t done,
                               uint64_t total, std::string_view unit,
                               std::chrono::milliseconds phase_elapsed);

class ProgressLine final : public ProgressSink {
 public:
  // Draws on `fd` when mode is kOn, or kAuto and fd is a terminal.
  explicit ProgressLine(ProgressMode mode, int fd = 2);
  ~ProgressLine() override;  // Clear(), joins the drawing thread
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool enabled() const { return enabled_; }
  // What the line starts with (the job, or "<db> <job>" for `once`). Resets the phase.
  void SetLabel(std::string label);
  // Erases the line (if drawn) and forgets the phase; the next report draws again.
  void Clear();
  void Report(std::string_view phase, uint64_t done, uint64_t total,
              std::string_view unit) override;

 private:
  void DrawLoop();
  void DrawLocked();  // with mu_ held

  const bool enabled_;
  const int fd_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;           // guarded by mu_
  std::string label_;               // guarded by mu_
  std::string phase_;               // guarded by mu_; "" = nothing to draw
  std::string unit_;                // guarded by mu_
  uint64_t done_ = 0, total_ = 0;   // guarded by mu_
  std::chrono::steady_clock::time_point phase_start_{};  // guarded by mu_
  bool drawn_ = false;              // guarded by mu_: a line is on the terminal
  std::string last_drawn_;          // guarded by mu_
  std::thread drawer_;              // runs DrawLoop while enabled_
};

}  // namespace maintd
