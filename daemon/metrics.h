#pragma once
// Prometheus metrics (CONTRACT.md section 8), names prefixed sqlite_maintd_, labelled by db
// (and job, or check). Record() is called on worker threads after every job run;
// Exposition() on the loop thread for GET /metrics. All members are thread-safe (one
// mutex; Record() holds it for a few map updates).
//
// Storage is a compact struct per database, written out in the text exposition format
// (0.0.4) on demand, with prometheus-cpp's conventions (HELP/TYPE lines, `_total`,
// `_seconds`, `_bytes`, cumulative `le` buckets, labels sorted by name). prometheus-cpp's
// own families cost about 25 KiB per database (a label map per series) and a scrape
// materialized every series twice: with a thousand databases that alone was over 25 MiB
// of the daemon's RSS (docs/performance.md, "Many databases"). Here a database costs about
// 2-3 KiB, and a scrape allocates only its response text.
//
// A series appears after its first value, as with prometheus-cpp; the failures and skips
// counters of a (db, job) appear at 0 with its first run, so rate() works from the start.

#include <memory>
#include <set>
#include <string>

#include "lib/jobs/maintained_database.h"

namespace maintd {

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // Counts the run, observes its duration, and takes the figures of its report (database
  // size, free pages, WAL size, pages freed, rows requeued and purged, lock hold).
  void Record(const ResolvedDatabase& db, const JobOutcome& outcome);
  // Gauges that do not come from a job run.
  void SetDatabasesMaintained(size_t count);
  void SetReady(bool ready);
  // Drops the series of databases not in `names` (removed from the config or no longer
  // matched by a glob), so tenants that come and go neither leak memory nor leave stale
  // series behind.
  void RetainDatabases(const std::set<std::string>& names);

  // The text exposition format (version 0.0.4), databases in name order.
  std::string Exposition() const;

 private:
  struct Store;
  std::unique_ptr<Store> store_;
};

}  // namespace maintd
