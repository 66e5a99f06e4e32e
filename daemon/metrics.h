#pragma once
// Prometheus metrics (CONTRACT.md section 8), names prefixed sqlite_maintd_, labelled by db
// (and job). Record() is called on worker threads after every job run; Exposition() on the
// loop thread for GET /metrics. prometheus-cpp's core types are thread-safe.

#include <memory>
#include <string>

#include "lib/jobs/maintained_database.h"

namespace prometheus {
class Registry;
}

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

  // The text exposition format (version 0.0.4).
  std::string Exposition() const;

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> f_;
};

}  // namespace maintd
