#include "lib/core/units.h"

#include <time.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace maintd {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "123.5MiB" into the number and the suffix. Rejects signs, empty numbers, overflow.
bool SplitNumber(std::string_view s, double* number, std::string_view* suffix) {
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return false;
  std::string digits(s.substr(0, i));
  if (digits.find('.') != digits.rfind('.')) return false;
  char* end = nullptr;
  double v = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || !std::isfinite(v)) return false;
  *number = v;
  *suffix = Trim(s.substr(i));
  return true;
}

}  // namespace

Result<Millis> ParseDuration(std::string_view text) {
  std::string_view s = Trim(text);
  double n = 0;
  std::string_view unit;
  if (!SplitNumber(s, &n, &unit)) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a duration (expected e.g. 500ms, 30s, 5m, 24h, 7d)");
  }
  double ms_per_unit = 0;
  if (unit == "ms") ms_per_unit = 1;
  else if (unit == "s") ms_per_unit = 1000;
  else if (unit == "m") ms_per_unit = 60e3;
  else if (unit == "h") ms_per_unit = 3600e3;
  else if (unit == "d") ms_per_unit = 86400e3;
  else if (unit.empty() && n == 0) ms_per_unit = 1;
  else {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' has no valid duration unit (ms, s, m, h, d)");
  }
  double total = n * ms_per_unit;
  // Ten years is far beyond any sensible interval; larger values are typos.
  if (total > 10.0 * 366 * 86400e3) {
    return Status::InvalidArgument("'" + std::string(text) + "' is too long (at most 3660d)");
  }
  return Millis(static_cast<int64_t>(std::llround(total)));
}

std::string FormatDuration(Millis d) {
  int64_t ms = d.count();
  if (ms == 0) return "0";
  struct Unit { int64_t ms; const char* name; };
  for (Unit u : {Unit{86400000, "d"}, Unit{3600000, "h"}, Unit{60000, "m"}, Unit{1000, "s"}}) {
    if (ms % u.ms == 0) return std::to_string(ms / u.ms) + u.name;
  }
  return std::to_string(ms) + "ms";
}

Result<int64_t> ParseSize(std::string_view text) {
  std::string_view s = Trim(text);
  double n = 0;
  std::string_view unit;
  if (!SplitNumber(s, &n, &unit)) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a size (expected e.g. 4096, 64KiB, 64MiB, 1GiB)");
  }
  double mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB") mult = 1024.0;
  else if (unit == "MiB") mult = 1024.0 * 1024;
  else if (unit == "GiB") mult = 1024.0 * 1024 * 1024;
  else if (unit == "TiB") mult = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "KB" || unit == "kB") mult = 1e3;
  else if (unit == "MB") mult = 1e6;
  else if (unit == "GB") mult = 1e9;
  else if (unit == "TB") mult = 1e12;
  else {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' has no valid size unit (KiB, MiB, GiB, TiB: powers of 1024; KB, MB, GB, TB: "
                                   "powers of 1000; a bare number is bytes)");
  }
  double total = n * mult;
  if (total >= 9.0e18) {
    return Status::InvalidArgument("'" + std::string(text) + "' is too large");
  }
  return static_cast<int64_t>(std::llround(total));
}

std::string FormatApproxSize(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string FormatSize(int64_t bytes) {
  if (bytes == 0) return "0";
  struct Unit { int64_t n; const char* name; };
  for (Unit u : {Unit{1LL << 40, "TiB"}, Unit{1LL << 30, "GiB"}, Unit{1LL << 20, "MiB"},
                 Unit{1LL << 10, "KiB"}}) {
    if (bytes % u.n == 0) return std::to_string(bytes / u.n) + u.name;
  }
  return std::to_string(bytes);
}

Result<TimeOfDay> ParseTimeOfDay(std::string_view text) {
  std::string_view s = Trim(text);
  TimeOfDay t;
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) {
    t.utc = true;
    s.remove_suffix(1);
  }
  auto colon = s.find(':');
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a time of day (expected \"HH:MM\" or \"HH:MMZ\")");
  };
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || s.size() - colon != 3) {
    return bad();
  }
  auto h = s.substr(0, colon), m = s.substr(colon + 1);
  auto r1 = std::from_chars(h.data(), h.data() + h.size(), t.hour);
  auto r2 = std::from_chars(m.data(), m.data() + m.size(), t.minute);
  if (r1.ec != std::errc() || r1.ptr != h.data() + h.size() || r2.ec != std::errc() ||
      r2.ptr != m.data() + m.size() || t.hour < 0 || t.hour > 23 || t.minute < 0 ||
      t.minute > 59) {
    return bad();
  }
  return t;
}

std::string FormatTimeOfDay(const TimeOfDay& t) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d%s", t.hour, t.minute, t.utc ? "Z" : "");
  return buf;
}

namespace {

// The moment at which the clock shows t on the calendar day that contains `day`.
SystemTime AtTimeOnDayOf(const TimeOfDay& t, SystemTime day, int day_offset) {
  time_t secs = std::chrono::system_clock::to_time_t(day);
  struct tm tm {};
  if (t.utc) gmtime_r(&secs, &tm); else localtime_r(&secs, &tm);
  tm.tm_mday += day_offset;
  tm.tm_hour = t.hour;
  tm.tm_min = t.minute;
  tm.tm_sec = 0;
  tm.tm_isdst = -1;
  time_t result = t.utc ? timegm(&tm) : mktime(&tm);
  return std::chrono::system_clock::from_time_t(result);
}

}  // namespace

SystemTime NextTimeOfDay(const TimeOfDay& t, SystemTime after) {
  for (int offset = 0; offset <= 2; ++offset) {
    SystemTime candidate = AtTimeOnDayOf(t, after, offset);
    if (candidate > after) return candidate;
  }
  return after + std::chrono::hours(24);
}

SystemTime PreviousTimeOfDay(const TimeOfDay& t, SystemTime at) {
  for (int offset = 0; offset >= -2; --offset) {
    SystemTime candidate = AtTimeOnDayOf(t, at, offset);
    if (candidate <= at) return candidate;
  }
  return at - std::chrono::hours(24);
}

Result<DiskThreshold> ParseDiskThreshold(std::string_view text) {
  std::string_view s = Trim(text);
  DiskThreshold t;
  if (!s.empty() && s.back() == '%') {
    double n = 0;
    std::string_view rest;
    if (!SplitNumber(s.substr(0, s.size() - 1), &n, &rest) || !rest.empty() || n > 100) {
      return Status::InvalidArgument("'" + std::string(text) +
                                     "' is not a percentage between 0% and 100%");
    }
    t.percent = n;
    return t;
  }
  auto size = ParseSize(s);
  if (!size.ok()) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is neither a percentage (10%) nor a size (1GiB)");
  }
  // A bare fraction is a ratio written where a percentage is meant (0.1 for 10%): it would
  // otherwise be 0 bytes and silently disable the threshold.
  if (s.find_first_not_of("0123456789") != std::string_view::npos &&
      s.find_first_not_of("0123456789.") == std::string_view::npos) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is a fraction: write a percentage (10%) or a size with "
                                   "a unit (1GiB)");
  }
  t.bytes = *size;
  return t;
}

std::string FormatDiskThreshold(const DiskThreshold& t) {
  if (t.bytes > 0) return FormatSize(t.bytes);
  // Fixed notation: "%g" printed tiny values as "5.2e-36%", which the parser refuses.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", t.percent);
  std::string text = buf;
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text + "%";
}

std::string FormatSqliteUtc(SystemTime t) {
  time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

Result<SystemTime> ParseSqliteUtc(std::string_view text) {
  struct tm tm {};
  std::string s(Trim(text));
  const char* end = strptime(s.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
  if (end == nullptr) end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) {
    return Status::InvalidArgument("'" + s + "' is not a UTC timestamp");
  }
  // system_clock counts nanoseconds in 64 bits (up to the year 2262): a larger time (a
  // hand-edited journal row, say) would overflow in from_time_t.
  time_t secs = timegm(&tm);
  if (secs < -9'000'000'000LL || secs > 9'000'000'000LL) {
    return Status::InvalidArgument("'" + s + "' is out of range");
  }
  return std::chrono::system_clock::from_time_t(secs);
}

std::string FormatCompactUtc(SystemTime t) {
  time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace maintd
