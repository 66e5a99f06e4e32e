#pragma once
// Prometheus metrics (CONTRACT.md section 8; docs/monitoring/README.md lists every series),
// names prefixed sqlite_maintd_, labelled by db and task (the job's name), or db and check.
// Never `job` or `instance`: Prometheus sets those on every series of a scrape target.
//
// Threads: Record() runs on worker threads after every job run, SetTaskRunning() and the
// setters on the loop thread, the exposition cursor on the loop thread for GET /metrics.
// Every member is thread-safe: one mutex guards the whole store (Record() holds it for a few
// small vector updates, the cursor for one piece of text).
//
// Storage is a compact struct per database (daemon/metrics_store.h: about 1 KiB a database,
// names interned), written out in the text exposition format (0.0.4) on demand, with
// prometheus-cpp's conventions (HELP/TYPE lines, `_total`, `_seconds`, `_bytes`, cumulative
// `le` buckets). The text for 10,000 databases is ~100 MB in full detail: it is written
// piece by piece (ExpositionCursor), so a scrape holds one piece, never the whole text.
//
// Series exist from the start: SetDatabases() declares each database's tasks, and their
// runs, failures and busy-skip counters, the counters of what they do (pages freed, rows
// requeued, ...) and the running gauge appear at 0 at once, so rate() and increase() see the
// first event. Gauges measured by a run (sizes, free pages) appear with the first run.

#include <memory>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/jobs/maintained_database.h"

namespace maintd {

namespace metrics_store {
struct Store;
}

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // kFull: the duration histogram per (db, task); kSummary: per task only, summed over the
  // databases (for thousands of databases: docs/configuration.md, "http.metrics").
  void SetDetail(MetricsDetail detail);
  // The maintained databases: declares the tasks JobsFor() gives each one, with their series
  // at 0, and drops the series of databases not listed (removed from the config or no
  // longer matched by a glob), so tenants that come and go leave no stale series behind.
  void SetDatabases(const std::vector<ResolvedDatabase>& dbs);
  void SetDatabases(const std::vector<std::shared_ptr<const ResolvedDatabase>>& dbs);
  // Counts the run, observes its duration, and takes the figures of its report (database
  // size, free pages, WAL size, pages freed, rows requeued and purged, lock hold).
  void Record(const ResolvedDatabase& db, const JobOutcome& outcome);
  // sqlite_maintd_task_running{db, task}: 1 from a job's start to its end.
  void SetTaskRunning(const std::string& db, const std::string& task, bool running);
  // Gauges that do not come from a job run.
  void SetDatabasesMaintained(size_t count);
  void SetReady(bool ready);

  // Writes the text exposition format (version 0.0.4) piece by piece: databases in name
  // order, then sqlite_maintd_build_info and the process_* series. Next() appends the next
  // piece, whole lines of about `bytes` or more (one database's lines of one family at
  // least), and returns false once the last piece is written. It takes the store's lock
  // for one piece at a time, so each sample is read as it is written: a database that
  // appears or goes during a scrape may be in some families and not others, as with client
  // libraries that collect one family at a time. The cursor keeps the store alive (it may
  // outlive the Metrics object); one thread at a time.
  class ExpositionCursor {
   public:
    virtual ~ExpositionCursor() = default;
    virtual bool Next(std::string& out, size_t bytes) = 0;
  };
  std::unique_ptr<ExpositionCursor> StartExposition() const;
  // The whole text at once (tests, small daemons).
  std::string Exposition() const;

 private:
  void SetDatabases(const std::vector<const ResolvedDatabase*>& dbs);
  std::shared_ptr<metrics_store::Store> store_;
};

}  // namespace maintd
