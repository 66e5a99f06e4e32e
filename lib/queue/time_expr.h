#pragma once
// How the queue jobs compare a time column with a moment, per time_format:
//   unix     seconds since the epoch (integer or real): "<col> < ?", bound as a real number
//            of seconds, so 1700000000 < 1700000000.5 holds;
//   unix_ms  milliseconds since the epoch: "<col> < ?", bound as an integer;
//   iso8601  text: "julianday(<col>) < ?", bound as a Julian day number. julianday() reads
//            every form SQLite understands ("2024-05-01 10:00:00", "...T10:00:00.123Z",
//            "...+02:00"), so mixed spellings still compare by the moment they denote.
// A NULL or unparsable value compares as NULL: such rows are never selected.

#include <string>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/sqlite/statement.h"

namespace maintd {

// SQL for "the value of `quoted_column` is before the moment bound at ?`param`".
std::string TimeBeforeSql(const std::string& quoted_column, TimeFormat format, int param);

// Binds moment `t` at `param` in the representation TimeBeforeSql compares with.
void BindTime(Statement& stmt, int param, TimeFormat format, SystemTime t);

// SQL for the moment the value of `quoted_column` denotes, as real seconds since the epoch,
// read in `format`; NULL where it reads as no time (NULL; text in a numeric format; text
// julianday() cannot read, or a number out of its range, in iso8601). Used to sample a
// column's values, not in the requeue's WHERE (which must stay index-friendly).
std::string TimeSecondsSql(const std::string& quoted_column, TimeFormat format);

// Whether an index on the column can serve the comparison (numeric formats only: the
// iso8601 comparison goes through julianday()).
bool TimeComparisonUsesIndex(TimeFormat format);

// Milliseconds since the epoch of `t`.
int64_t UnixMillis(SystemTime t);

}  // namespace maintd
