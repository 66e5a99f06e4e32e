#include "lib/queue/time_unit_check.h"

#include <sqlite3.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>

#include "lib/queue/table_info.h"
#include "lib/queue/time_expr.h"
#include "lib/sqlite/statement.h"

namespace maintd {
namespace {

constexpr int kSampleRows = 1000;

// One sampled value: as written (for the message) and, when it is a number, its value.
struct Raw {
  std::string text;
  std::optional<double> number;
};

struct Sample {
  int64_t values = 0;    // non-NULL values in the sample
  int64_t readable = 0;  // of which read as a time in the format
  double min_s = 0, max_s = 0;
  Raw min, max, unreadable;  // the values read earliest and latest; one that reads as no time
};

Raw ReadRaw(const Statement& st, int i) {
  Raw r;
  int type = sqlite3_column_type(st.raw(), i);
  if (type == SQLITE_NULL) return r;
  r.text = st.Text(i);
  if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
    r.number = st.Double(i);
  } else {
    r.text = "'" + r.text + "'";
  }
  return r;
}

Result<Sample> TakeSample(Connection& conn, const TableInfo& info, const std::string& column,
                          TimeFormat format) {
  std::string table = "main." + QuoteIdentifier(info.name);
  std::string c = QuoteIdentifier(column);
  std::string values = "SELECT * FROM (SELECT " + c + " FROM " + table + " ORDER BY " +
                       info.rowid_name + " DESC LIMIT " + std::to_string(kSampleRows) + ")";
  auto index = IndexLeadingWith(conn, info.name, column);
  if (!index.ok()) return index.status();
  if (!index->empty()) {
    for (const char* order : {"", " DESC"}) {
      values += " UNION ALL SELECT * FROM (SELECT " + c + " FROM " + table + " INDEXED BY " +
                QuoteIdentifier(*index) + " WHERE " + c + " IS NOT NULL ORDER BY " + c + order +
                " LIMIT 1)";
    }
  }
  std::string sql = "WITH v(c) AS (" + values + "), s(c, t) AS (SELECT c, " +
                    TimeSecondsSql("c", format) +
                    " FROM v WHERE c IS NOT NULL) SELECT (SELECT count(*) FROM s), "
                    "(SELECT count(t) FROM s), (SELECT min(t) FROM s), (SELECT max(t) FROM s), "
                    "(SELECT c FROM s WHERE t IS NOT NULL ORDER BY t LIMIT 1), "
                    "(SELECT c FROM s WHERE t IS NOT NULL ORDER BY t DESC LIMIT 1), "
                    "(SELECT c FROM s WHERE t IS NULL LIMIT 1)";
  auto st = conn.Prepare(sql);
  if (!st.ok()) return st.status();
  auto row = st->Step();
  if (!row.ok()) return row.status();
  Sample s;
  s.values = st->Int(0);
  s.readable = st->Int(1);
  s.min_s = st->Double(2);
  s.max_s = st->Double(3);
  s.min = ReadRaw(*st, 4);
  s.max = ReadRaw(*st, 5);
  s.unreadable = ReadRaw(*st, 6);
  return s;
}

bool Near(double seconds, SystemTime now) {
  double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  double tolerance = std::chrono::duration<double>(kTimeUnitTolerance).count();
  return std::fabs(seconds - now_s) <= tolerance;
}

// " they read as A to B", or " it reads as A" for a single value.
std::string Reads(const Raw& lo, const Raw& hi, double lo_s, double hi_s) {
  if (lo.text == hi.text) return " it reads as " + DescribeUnixSeconds(lo_s);
  return " they read as " + DescribeUnixSeconds(lo_s) + " to " + DescribeUnixSeconds(hi_s);
}

// "; as unix they read as A to B (time_format: unix?)" when another format fits the values.
std::string Suggestion(const Raw& lo, const Raw& hi, TimeFormat format, SystemTime now) {
  if (!lo.number || !hi.number) {
    return format == TimeFormat::kIso8601 ? "" : "; the column holds text: iso8601?";
  }
  for (auto [other, per_second] : {std::pair{TimeFormat::kUnix, 1.0},
                                   std::pair{TimeFormat::kUnixMs, 1000.0}}) {
    double a = *lo.number / per_second, b = *hi.number / per_second;
    if (other == format || !Near(a, now) || !Near(b, now)) continue;
    return std::string("; as ") + ToString(other) + Reads(lo, hi, a, b) + " (time_format: " +
           ToString(other) + "?)";
  }
  return "";
}

}  // namespace

std::string DescribeUnixSeconds(double seconds) {
  double year = 1970 + seconds / (365.2425 * 86400);
  if (!std::isfinite(seconds) || year < 0 || year >= 10000) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "the year %.0f", std::floor(year));
    return buf;
  }
  time_t t = static_cast<time_t>(std::floor(seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status CheckTimeUnit(Connection& conn, const std::string& key, const std::string& table,
                     const std::string& column, TimeFormat format, SystemTime now,
                     TimeColumnUse use) {
  const bool lease = use == TimeColumnUse::kLease;
  const std::string never = lease ? "no lease would ever expire"
                                  : "no row would ever be archived or deleted";
  const std::string at_once = lease ? "every lease would count as expired at once"
                                    : "every row would count as old enough to delete at once";
  auto info = ReadTableInfo(conn, "main", table);
  if (!info.ok()) return info.status();
  if (!info->has_value() || (*info)->rowid_name.empty()) return Status::Ok();  // checked before
  auto sample = TakeSample(conn, **info, column, format);
  if (!sample.ok()) {
    return Status(sample.status().code(),
                  key + ": cannot sample column '" + column + "': " + sample.status().message());
  }
  const Sample& s = *sample;
  if (s.values == 0) return Status::Ok();
  std::string fmt = ToString(format);
  std::string head = key + ": " + fmt + ", but ";
  std::string where = "'" + (*info)->name + "." + column + "'";
  if (s.readable == 0) {
    return Status::Config(head + "none of the " + std::to_string(s.values) +
                          " sampled values of " + where + " (e.g. " + s.unreadable.text +
                          ") reads as a time in " + fmt + ": " + never +
                          Suggestion(s.unreadable, s.unreadable, format, now));
  }
  double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  double tolerance = std::chrono::duration<double>(kTimeUnitTolerance).count();
  bool past = s.max_s < now_s - tolerance, future = s.min_s > now_s + tolerance;
  if (!past && !future) return Status::Ok();
  std::string seen = s.min.text == s.max.text ? s.min.text : s.min.text + " to " + s.max.text;
  return Status::Config(
      head + "the values of " + where + " (" + seen + ", " + std::to_string(s.values) +
      " sampled):" + Reads(s.min, s.max, s.min_s, s.max_s) + " in " + fmt +
      ", every one more than 20 years in the " +
      (past ? "past: " + at_once : "future: " + never) +
      Suggestion(s.min, s.max, format, now));
}

}  // namespace maintd
