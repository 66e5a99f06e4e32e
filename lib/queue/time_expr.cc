#include "lib/queue/time_expr.h"

namespace maintd {

int64_t UnixMillis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string TimeBeforeSql(const std::string& quoted_column, TimeFormat format, int param) {
  std::string p = "?" + std::to_string(param);
  if (format == TimeFormat::kIso8601) return "julianday(" + quoted_column + ") < " + p;
  return quoted_column + " < " + p;
}

void BindTime(Statement& stmt, int param, TimeFormat format, SystemTime t) {
  int64_t ms = UnixMillis(t);
  switch (format) {
    case TimeFormat::kUnix:
      stmt.Bind(param, static_cast<double>(ms) / 1000.0);
      break;
    case TimeFormat::kUnixMs:
      stmt.Bind(param, ms);
      break;
    case TimeFormat::kIso8601:
      // The Julian day number of the Unix epoch is 2440587.5.
      stmt.Bind(param, static_cast<double>(ms) / 86400000.0 + 2440587.5);
      break;
  }
}

std::string TimeSecondsSql(const std::string& quoted_column, TimeFormat format) {
  const std::string& c = quoted_column;
  std::string numeric = "CASE WHEN typeof(" + c + ") IN ('integer', 'real') THEN ";
  switch (format) {
    case TimeFormat::kUnix:
      return numeric + c + " END";
    case TimeFormat::kUnixMs:
      return numeric + c + " / 1000.0 END";
    case TimeFormat::kIso8601:
      break;
  }
  return "(julianday(" + c + ") - 2440587.5) * 86400.0";
}

bool TimeComparisonUsesIndex(TimeFormat format) { return format != TimeFormat::kIso8601; }

}  // namespace maintd
