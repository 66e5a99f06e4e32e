#pragma once
// Parsing and printing of the config's units (CONTRACT.md section 3):
//   durations  "500ms" "30s" "5m" "24h" "7d" (and "0" = disabled); no negatives
//   sizes      "4096" "64KiB" "64MiB" "1GiB" (also KB/MB/GB as powers of 1000)
//   times      "03:00" local time, "03:00Z" UTC
//   ratios     "10%" or a plain number; used by free_disk_warning
// Every parser returns InvalidArgument with a message that says what was expected.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/core/clock.h"
#include "lib/core/status.h"

namespace maintd {

Result<Millis> ParseDuration(std::string_view text);
std::string FormatDuration(Millis d);  // "5m", "1500ms", "0"

Result<int64_t> ParseSize(std::string_view text);
// Rounded, for people: "900 B", "12.3 MiB", "2.1 GiB" (not parseable back).
std::string FormatApproxSize(int64_t bytes);
std::string FormatSize(int64_t bytes);  // "64MiB" when exact, else bytes

struct TimeOfDay {
  int hour = 0;
  int minute = 0;
  bool utc = false;
  bool operator==(const TimeOfDay&) const = default;
};
Result<TimeOfDay> ParseTimeOfDay(std::string_view text);
std::string FormatTimeOfDay(const TimeOfDay& t);

// The first moment strictly after `after` at which the wall clock shows `t`
// (local time unless t.utc). Handles day rollover; DST gaps move to the next valid time.
SystemTime NextTimeOfDay(const TimeOfDay& t, SystemTime after);
// The most recent moment at or before `at` at which the wall clock showed `t`.
SystemTime PreviousTimeOfDay(const TimeOfDay& t, SystemTime at);

// "10%" -> percent; "1GiB" -> bytes. Exactly one of the two is set (>0) unless both are 0.
struct DiskThreshold {
  double percent = 0;
  int64_t bytes = 0;
  bool operator==(const DiskThreshold&) const = default;
};
Result<DiskThreshold> ParseDiskThreshold(std::string_view text);
std::string FormatDiskThreshold(const DiskThreshold& t);

// "2026-11-22 03:00:00" in UTC, the format of SQLite's datetime('now').
std::string FormatSqliteUtc(SystemTime t);
// Parses the format above (and ISO 8601 "2026-11-22T03:00:00Z"); NotFound-free: returns
// InvalidArgument for anything else.
Result<SystemTime> ParseSqliteUtc(std::string_view text);
// "20261122T030000Z", the backup file name stamp.
std::string FormatCompactUtc(SystemTime t);

}  // namespace maintd
