#pragma once
// A time_format that contradicts the data: a `unix_ms` rule on a column of seconds reads
// every lease as January 1970 (all expired at once), a `unix` rule on a column of
// milliseconds reads them as the year 50000 or so (none ever expires). Checked when the config
// is loaded (daemon start, SIGHUP, validate-config), not at each run.
//
// The sample is bounded, whatever the table's size: the column's values in the newest 1000
// rows (by rowid, a walk from the end of the table), plus its smallest and largest value
// when an index leads with the column (two index seeks). NULLs are left out.
//
// Refused (Status::Config naming `key`, the values seen and what they mean in the format):
//  - every sampled value reads as more than kTimeUnitTolerance (20 years) before now (the
//    largest is that old), or every one as more than that after now (the smallest is that
//    far ahead);
//  - not one sampled value reads as a time in the format (text in unix/unix_ms, numbers
//    outside julianday's range or unreadable text in iso8601).
// A table with no non-NULL value in the sample passes; so does a mix (some values near now).

#include <chrono>
#include <string>

#include "lib/config/config.h"
#include "lib/core/status.h"
#include "lib/sqlite/connection.h"

namespace maintd {

inline constexpr std::chrono::hours kTimeUnitTolerance{20 * 8766};  // 20 years of 365.25 days

// What the column's times decide: the message says what a wrong unit would do.
enum class TimeColumnUse {
  kLease,     // lease ends / heartbeats: all expired at once, or never
  kRowAge,    // retention: every row deleted at once, or none ever
};

// `table` and `column` as declared (existence already checked); `key` is the key path the
// message names, e.g. "databases[app].lease_requeue[0].time_format".
Status CheckTimeUnit(Connection& conn, const std::string& key, const std::string& table,
                     const std::string& column, TimeFormat format, SystemTime now,
                     TimeColumnUse use = TimeColumnUse::kLease);

// "2026-01-01T10:00:00Z"; outside the years 0..9999: "the year 55944" (for messages).
std::string DescribeUnixSeconds(double seconds);

}  // namespace maintd
