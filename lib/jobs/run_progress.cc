#include "lib/jobs/run_progress.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace maintd {

namespace {

constexpr char kPrefix[] = "running ";

std::string OneWord(std::string_view text) {
  std::string word(text);
  for (char& c : word) {
    if (c == ' ' || c == '\t' || c == '=') c = '_';
  }
  return word;
}

}  // namespace

std::optional<double> RunningActivity::fraction() const {
  if (total == 0) return std::nullopt;
  return std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
}

std::string FormatActivity(const RunningActivity& a) {
  auto since = std::chrono::duration_cast<std::chrono::seconds>(a.since.time_since_epoch());
  std::string line = kPrefix + std::string("job=") + OneWord(a.job) +
                     " since=" + std::to_string(since.count());
  if (!a.phase.empty() || !a.unit.empty()) {
    line += " phase=" + OneWord(a.phase.empty() ? a.job : a.phase) +
            " done=" + std::to_string(a.done) + " total=" + std::to_string(a.total) +
            " unit=" + OneWord(a.unit);
  }
  return line;
}

std::optional<RunningActivity> ParseActivity(const std::string& line) {
  if (line.rfind(kPrefix, 0) != 0) return std::nullopt;
  RunningActivity a;
  std::istringstream words(line.substr(sizeof kPrefix - 1));
  std::string word;
  bool has_since = false;
  while (words >> word) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    std::string key = word.substr(0, eq);
    std::string value = word.substr(eq + 1);
    if (key == "job") {
      a.job = value;
    } else if (key == "since") {
      a.since = SystemTime(std::chrono::seconds(std::atoll(value.c_str())));
      has_since = true;
    } else if (key == "phase") {
      a.phase = value;
    } else if (key == "done") {
      a.done = std::strtoull(value.c_str(), nullptr, 10);
    } else if (key == "total") {
      a.total = std::strtoull(value.c_str(), nullptr, 10);
    } else if (key == "unit") {
      a.unit = value;
    }
  }
  if (a.job.empty() || !has_since) return std::nullopt;
  if (a.total > 0 && a.done > a.total) a.done = a.total;
  return a;
}

RunProgress::RunProgress(std::string job, const Clock& clock, ProgressSink* forward,
                         WriteActivity write)
    : clock_(clock), forward_(forward), write_(std::move(write)) {
  activity_.job = std::move(job);
}

RunProgress::~RunProgress() { Finish(); }

void RunProgress::Start() {
  activity_.since = clock_.Now();
  started_ = true;
  last_write_ = clock_.SteadyNow();
  if (write_) write_(FormatActivity(activity_));
}

void RunProgress::Finish() {
  if (!started_) return;
  started_ = false;
  if (write_) write_("");
}

void RunProgress::Report(std::string_view phase, uint64_t done, uint64_t total,
                         std::string_view unit) {
  if (forward_ != nullptr) forward_->Report(phase, done, total, unit);
  if (!started_ || !write_) return;
  bool new_phase = activity_.phase != phase || activity_.unit != unit;
  activity_.phase = std::string(phase);
  activity_.unit = std::string(unit);
  activity_.done = done;
  activity_.total = total;
  auto now = clock_.SteadyNow();
  if (!new_phase && now - last_write_ < kActivityInterval) return;
  last_write_ = now;
  write_(FormatActivity(activity_));
}

}  // namespace maintd
