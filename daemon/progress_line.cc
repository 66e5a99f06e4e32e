#include "daemon/progress_line.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "daemon/commands.h"
#include "lib/core/units.h"

namespace maintd {

namespace {

// 4200 (pages, rows), 12.3 MiB (bytes).
std::string Human(uint64_t n, std::string_view unit) {
  if (unit == "bytes") return FormatApproxSize(static_cast<int64_t>(n));
  return std::to_string(n);
}

// 45s, 3m07s, 1h02m.
std::string Duration(int64_t s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  }
  return buf;
}

}  // namespace

void AddProgressFlags(CLI::App* command, CommandEnv& env) {
  auto* on = command->add_flag_callback(
      "--progress", [&env] { env.progress = ProgressMode::kOn; },
      "show the progress line on stderr even when it is not a terminal");
  auto* off = command->add_flag_callback(
      "--no-progress", [&env] { env.progress = ProgressMode::kOff; },
      "never show the progress line (default: shown when stderr is a terminal)");
  on->excludes(off);
}

std::string FormatProgressLine(std::string_view label, std::string_view phase, uint64_t done,
                               uint64_t total, std::string_view unit,
                               std::chrono::milliseconds phase_elapsed) {
  std::string line(label);
  if (!phase.empty() && phase != label) {
    line += std::string(line.empty() ? "" : " ") + std::string(phase);
  }
  line += ":";
  const double secs = static_cast<double>(phase_elapsed.count()) / 1000.0;
  if (total == 0 && done == 0) return line + " " + Duration(static_cast<int64_t>(secs));
  // "4200/10000 pages", "12.3 MiB/96.0 MiB"
  line += " " + Human(done, unit);
  if (total > 0) line += "/" + Human(total, unit);
  const bool bytes = unit == "bytes";
  if (!bytes && !unit.empty()) line += " " + std::string(unit);
  if (total > 0) {
    line += " (" + std::to_string(done * 100 / total) + "%)";
  }
  if (secs >= 0.5 && done > 0) {
    double rate = static_cast<double>(done) / secs;
    line += " " + Human(static_cast<uint64_t>(rate), unit) +
            (bytes || unit.empty() ? "/s" : " " + std::string(unit) + "/s");
    if (total > 0) {
      line += " ETA " +
              Duration(static_cast<int64_t>(std::ceil(static_cast<double>(total - done) / rate)));
    }
  } else {
    line += " " + Duration(static_cast<int64_t>(secs));
  }
  return line;
}

ProgressLine::ProgressLine(ProgressMode mode, int fd)
    : enabled_(mode == ProgressMode::kOn || (mode == ProgressMode::kAuto && ::isatty(fd) == 1)),
      fd_(fd) {
  if (enabled_) drawer_ = std::thread([this] { DrawLoop(); });
}

ProgressLine::~ProgressLine() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (drawer_.joinable()) drawer_.join();
  Clear();
}

void ProgressLine::SetLabel(std::string label) {
  std::lock_guard lock(mu_);
  label_ = std::move(label);
  phase_.clear();
}

void ProgressLine::Clear() {
  std::lock_guard lock(mu_);
  phase_.clear();
  if (!drawn_) return;
  static constexpr char kErase[] = "\r\033[K";
  (void)!::write(fd_, kErase, sizeof kErase - 1);
  drawn_ = false;
}

void ProgressLine::Report(std::string_view phase, uint64_t done, uint64_t total,
                          std::string_view unit) {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  if (phase != phase_ || unit != unit_) {
    phase_ = std::string(phase.empty() ? "working" : phase);
    unit_ = std::string(unit);
    phase_start_ = std::chrono::steady_clock::now();
  }
  done_ = done;
  total_ = total;
}

void ProgressLine::DrawLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, kRedrawInterval);
    if (!stopping_) DrawLocked();
  }
}

void ProgressLine::DrawLocked() {
  if (phase_.empty()) return;
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - phase_start_);
  std::string text = FormatProgressLine(label_, phase_, done_, total_, unit_, elapsed);
  if (drawn_ && text == last_drawn_) return;  // nothing new to show
  last_drawn_ = text;
  text = "\r" + text + "\033[K";
  (void)!::write(fd_, text.data(), text.size());
  drawn_ = true;
}

}  // namespace maintd
