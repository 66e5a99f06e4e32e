// daemon/metrics: the /metrics text written piece by piece (Metrics::Exposition's cursor,
// what daemon/http_server.cc streams) is byte for byte the text of the single-string
// exposition kept in tests/daemon/testdata/ (rendered before the store was made compact and
// the response streamed), whatever the size of the pieces; and a piece ends at a line's end.
//
// The reference files are regenerated only on purpose (a new series, a changed HELP text):
//   METRICS_GOLDEN_WRITE=1 build/tests/daemon_tests --gtest_filter='MetricsStream.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "daemon/metrics.h"
#include "tests/daemon/metrics_fixtures.h"
#include "tests/support/monitoring_tools.h"

namespace maintd {
namespace {

using test_metrics::Db;
using test_metrics::Outcome;

// Every kind of series: declared tasks (a queue rule among them), runs, failures, skips by
// several reasons, durations in several buckets, gauges and counters from the figures, gate
// and job health checks, a running task, an escaped label, the process-wide gauges.
void Fill(Metrics& m) {
  ResolvedDatabase queue = Db("queue");
  LeaseRequeueRule rule;
  rule.table = "tasks";
  queue.lease_requeue.push_back(rule);
  std::vector<ResolvedDatabase> dbs{queue, Db("app"), Db("we\"ird\\name")};
  for (int i = 0; i < 12; ++i) dbs.push_back(Db("tenant" + std::to_string(i)));
  m.SetDatabases(dbs);
  int64_t ms = 1;
  for (const ResolvedDatabase& db : dbs) {
    JobOutcome cp = Outcome("checkpoint", ms);
    cp.gate_checks.push_back({"quick_check", HealthStatus::kHealthy, nlohmann::json::object()});
    cp.report.figures.wal_bytes = 4096 * ms;
    cp.report.figures.wal_frames_not_checkpointed = ms % 3;
    cp.report.figures.wal_pin_age_seconds = 0;
    m.Record(db, cp);
    JobOutcome unchanged = Outcome("checkpoint", 0);
    unchanged.skipped = true;
    unchanged.skip_reason = "unchanged";
    m.Record(db, unchanged);
    JobOutcome vac = Outcome("vacuum", ms * 7);
    vac.report.figures.freelist_count = ms;
    vac.report.figures.db_bytes = 16384 * ms;
    vac.report.figures.pages_freed = ms * 10;
    vac.report.figures.max_lock_hold_ms = 1.5 * static_cast<double>(ms);
    m.Record(db, vac);
    JobOutcome below = Outcome("vacuum", 0);
    below.skip_reason = "below_trigger";  // a job's own reason, named before "busy"
    m.Record(db, below);
    ms = ms * 3 % 997 + 1;
  }
  JobOutcome busy = Outcome("health", 5000);
  busy.skipped = true;
  busy.skip_reason = "busy";
  busy.status = HealthStatus::kWarning;
  busy.error = Status::Busy("database is locked");
  m.Record(Db("app"), busy);
  JobOutcome failed = Outcome("analyze", 70000);
  failed.status = HealthStatus::kCritical;
  failed.error = Status::Failed("disk I/O error");
  failed.report.checks[0].status = HealthStatus::kCritical;
  m.Record(Db("app"), failed);
  JobOutcome health = Outcome("health", 400);
  health.report.checks.push_back({"wal_size", HealthStatus::kWarning, nlohmann::json::object()});
  health.report.checks.push_back({"fragmentation", HealthStatus::kHealthy, nlohmann::json::object()});
  m.Record(Db("we\"ird\\name"), health);
  JobOutcome requeue = Outcome("lease_requeue", 12);
  requeue.report.figures.rows_requeued = 4;
  requeue.report.figures.rows_dead = 1;
  m.Record(queue, requeue);
  m.SetTaskRunning("tenant3", "vacuum", true);
  m.SetDatabasesMaintained(dbs.size());
  m.SetReady(true);
}

// What differs from run to run (the time of a success, the build's version, the process_*
// series) is replaced or cut, so the rest can be compared byte for byte.
std::string Stable(const std::string& text) {
  std::string out = text.substr(0, text.find("# HELP process_"));
  out = std::regex_replace(
      out, std::regex(R"((sqlite_maintd_job_last_success_timestamp_seconds\{[^}]*\}) [0-9.e+]+)"),
      "$1 TIME");
  return std::regex_replace(out, std::regex(R"(,version="[^"]*")"), ",version=\"VERSION\"");
}

std::string Golden(MetricsDetail detail) {
  return test::SourceFile(std::string("tests/daemon/testdata/metrics_") +
                    (detail == MetricsDetail::kFull ? "full" : "summary") + ".txt");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Streamed(const Metrics& m, size_t piece_bytes, size_t* pieces) {
  std::string all;
  auto cursor = m.StartExposition();
  *pieces = 0;
  std::string piece;
  bool more = true;
  while (more) {
    piece.clear();
    more = cursor->Next(piece, piece_bytes);
    EXPECT_TRUE(piece.empty() || piece.back() == '\n') << "a piece ends mid-line: " << piece;
    all += piece;
    ++*pieces;
  }
  return all;
}

class MetricsStream : public ::testing::TestWithParam<MetricsDetail> {};

TEST_P(MetricsStream, PiecesAddUpToTheReferenceText) {
  Metrics m;
  m.SetDetail(GetParam());
  Fill(m);
  if (std::getenv("METRICS_GOLDEN_WRITE") != nullptr) {
    std::ofstream(Golden(GetParam())) << Stable(m.Exposition());
  }
  std::string golden = ReadFile(Golden(GetParam()));
  ASSERT_GT(golden.size(), 1000u) << Golden(GetParam());
  EXPECT_EQ(Stable(m.Exposition()), golden);
  size_t last_pieces = 0;
  for (size_t piece_bytes : {size_t{1}, size_t{100}, size_t{4096}, size_t{1} << 20}) {
    size_t pieces = 0;
    EXPECT_EQ(Stable(Streamed(m, piece_bytes, &pieces)), golden) << piece_bytes << " bytes a piece";
    if (piece_bytes > 1) {
      EXPECT_LE(pieces, last_pieces) << piece_bytes;
    }
    last_pieces = pieces;
  }
  size_t pieces = 0;
  Streamed(m, 100, &pieces);
  EXPECT_GT(pieces, 10u) << "small pieces were asked for";
}

INSTANTIATE_TEST_SUITE_P(Detail, MetricsStream,
                         ::testing::Values(MetricsDetail::kFull, MetricsDetail::kSummary),
                         [](const auto& info) {
                           return info.param == MetricsDetail::kFull ? "Full" : "Summary";
                         });

}  // namespace
}  // namespace maintd
