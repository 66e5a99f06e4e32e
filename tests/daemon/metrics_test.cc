// daemon/metrics: the /metrics text is valid Prometheus exposition (0.0.4) with the
// families of CONTRACT.md section 8, counts what it is told, declares each database's series
// at 0, has a lean summary mode, and forgets dropped databases.
#include "daemon/metrics.h"
#include "tests/daemon/metrics_fixtures.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace maintd {
namespace {

using test_metrics::Db;
using test_metrics::Outcome;

JobFigures Gauges(int64_t wal_bytes, int64_t db_bytes) {
  JobFigures f;
  f.wal_bytes = wal_bytes;
  f.db_bytes = db_bytes;
  return f;
}

// Checks the whole text against the exposition format; returns sample name+labels -> value.
std::map<std::string, double> Parse(const std::string& text) {
  static const std::regex kHelp("# HELP ((sqlite_maintd|process)_[a-z_]+) .+");
  static const std::regex kType("# TYPE ((sqlite_maintd|process)_[a-z_]+) (counter|gauge|histogram)");
  static const std::regex kSample(
      R"(([a-z_]+)(\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})? )"
      R"(([-+0-9.e]+|\+Inf|NaN))");
  std::map<std::string, double> samples;
  std::set<std::string> typed;
  std::string family, type;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) continue;
    if (std::regex_match(line, m, kType)) {
      family = m[1];
      type = m[3];
      EXPECT_TRUE(typed.insert(family).second) << "family declared twice: " << family;
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, m, kSample)) << "not a sample line: " << line;
    std::string name = m[1];
    bool belongs = name == family ||
                   (type == "histogram" && (name == family + "_bucket" || name == family + "_sum" ||
                                            name == family + "_count"));
    EXPECT_TRUE(belongs) << name << " outside its family (" << family << ")";
    EXPECT_TRUE(samples.emplace(name + m[2].str(), std::stod(m[3])).second)
        << "duplicate: " << line;
  }
  return samples;
}

TEST(Metrics, CountsRunsFailuresSkipsAndDurations) {
  Metrics metrics;
  auto db = Db("app");
  metrics.Record(db, Outcome("checkpoint", 30, Gauges(8192, 4096)));
  JobOutcome busy = Outcome("checkpoint", 5000);
  busy.skipped = true;
  busy.skip_reason = "busy";
  busy.status = HealthStatus::kWarning;
  busy.error = Status::Busy("database is locked");
  metrics.Record(db, busy);
  JobOutcome failed = Outcome("checkpoint", 2);
  failed.status = HealthStatus::kCritical;
  failed.error = Status::Failed("disk I/O error");
  failed.report.checks[0].status = HealthStatus::kCritical;  // as the runner records it
  metrics.Record(db, failed);
  JobFigures vacuumed;
  vacuumed.pages_freed = 120;
  vacuumed.freelist_count = 3;
  vacuumed.max_lock_hold_ms = 42.0;
  metrics.Record(db, Outcome("vacuum", 700, vacuumed));
  JobFigures a_few;
  a_few.pages_freed = 5;
  metrics.Record(db, Outcome("vacuum", 10, a_few));
  JobOutcome nothing_to_do = Outcome("vacuum", 1);
  nothing_to_do.skip_reason = "below_trigger";  // a job's own skip counts too
  metrics.Record(db, nothing_to_do);
  metrics.SetDatabasesMaintained(1);
  metrics.SetReady(true);

  auto s = Parse(metrics.Exposition());
  const std::string cp = "{db=\"app\",task=\"checkpoint\"}";
  EXPECT_EQ(s["sqlite_maintd_job_runs_total" + cp], 3);
  EXPECT_EQ(s["sqlite_maintd_job_skips_total{db=\"app\",task=\"checkpoint\",reason=\"busy\"}"], 1);
  EXPECT_EQ(s["sqlite_maintd_job_failures_total" + cp], 1);
  EXPECT_EQ(s["sqlite_maintd_job_failures_total{db=\"app\",task=\"vacuum\"}"], 0);
  EXPECT_EQ(
      s["sqlite_maintd_job_skips_total{db=\"app\",task=\"vacuum\",reason=\"below_trigger\"}"], 1);
  // Cumulative buckets: 2 ms and 30 ms are <= 0.05 s, 5 s is only in le="5" and above.
  EXPECT_EQ(
      s["sqlite_maintd_job_duration_seconds_bucket{db=\"app\",task=\"checkpoint\",le=\"0.001\"}"],
      0);
  EXPECT_EQ(
      s["sqlite_maintd_job_duration_seconds_bucket{db=\"app\",task=\"checkpoint\",le=\"0.005\"}"],
      1);
  EXPECT_EQ(
      s["sqlite_maintd_job_duration_seconds_bucket{db=\"app\",task=\"checkpoint\",le=\"0.05\"}"], 2);
  EXPECT_EQ(s["sqlite_maintd_job_duration_seconds_bucket{db=\"app\",task=\"checkpoint\",le=\"1\"}"],
            2);
  EXPECT_EQ(s["sqlite_maintd_job_duration_seconds_bucket{db=\"app\",task=\"checkpoint\",le=\"5\"}"],
            3);
  EXPECT_EQ(
      s["sqlite_maintd_job_duration_seconds_bucket{db=\"app\",task=\"checkpoint\",le=\"+Inf\"}"], 3);
  EXPECT_EQ(s["sqlite_maintd_job_duration_seconds_count" + cp], 3);
  EXPECT_NEAR(s["sqlite_maintd_job_duration_seconds_sum" + cp], 5.032, 1e-9);
  // Only the successful run sets the last-success time.
  EXPECT_GT(s["sqlite_maintd_job_last_success_timestamp_seconds" + cp], 1.6e9);
  EXPECT_EQ(s["sqlite_maintd_wal_size_bytes{db=\"app\"}"], 8192);
  EXPECT_EQ(s["sqlite_maintd_database_size_bytes{db=\"app\"}"], 4096);
  EXPECT_EQ(s["sqlite_maintd_free_pages{db=\"app\"}"], 3);
  EXPECT_EQ(s["sqlite_maintd_pages_freed_total{db=\"app\"}"], 125);
  EXPECT_DOUBLE_EQ(s["sqlite_maintd_max_lock_hold_seconds{db=\"app\"}"], 0.042);
  EXPECT_EQ(s["sqlite_maintd_health_status{check=\"checkpoint\",db=\"app\"}"], 2);
  EXPECT_EQ(s["sqlite_maintd_health_status{check=\"vacuum\",db=\"app\"}"], 0);
  EXPECT_EQ(s["sqlite_maintd_databases"], 1);
  EXPECT_EQ(s["sqlite_maintd_ready"], 1);
  // Nothing requeued yet: that family is not exported at all.
  EXPECT_EQ(metrics.Exposition().find("rows_requeued"), std::string::npos);
}

TEST(Metrics, RowCountersAndLabelsAreEscaped) {
  Metrics metrics;
  auto odd = Db("we\"ird\\name");
  JobFigures retention;  // a dry run reports no figures (RetentionJob)
  retention.rows_purged = 7;
  retention.rows_archived = 7;
  metrics.Record(odd, Outcome("retention", 1, retention));
  metrics.Record(odd, Outcome("retention", 1));
  JobFigures requeue;
  requeue.rows_requeued = 3;
  requeue.rows_dead = 1;
  metrics.Record(odd, Outcome("lease_requeue", 1, requeue));
  JobFigures rotation;
  rotation.backups_deleted = 2;
  metrics.Record(odd, Outcome("backup", 1, rotation));
  std::string text = metrics.Exposition();
  auto s = Parse(text);
  EXPECT_EQ(s["sqlite_maintd_rows_purged_total{db=\"we\\\"ird\\\\name\"}"], 7) << text;
  EXPECT_EQ(s["sqlite_maintd_rows_archived_total{db=\"we\\\"ird\\\\name\"}"], 7);
  EXPECT_EQ(s["sqlite_maintd_rows_requeued_total{db=\"we\\\"ird\\\\name\"}"], 3);
  EXPECT_EQ(s["sqlite_maintd_rows_dead_total{db=\"we\\\"ird\\\\name\"}"], 1);
  // Rotation has its own counter: deleted backups are not purged rows.
  EXPECT_EQ(s["sqlite_maintd_backups_deleted_total{db=\"we\\\"ird\\\\name\"}"], 2);
}

TEST(Metrics, DroppedDatabasesDisappear) {
  Metrics metrics;
  for (const char* name : {"t1", "t2", "t3"}) metrics.Record(Db(name), Outcome("checkpoint", 1));
  metrics.SetDatabases({Db("t1"), Db("t3")});
  std::string text = metrics.Exposition();
  EXPECT_EQ(text.find("\"t2\""), std::string::npos) << text;
  EXPECT_NE(text.find("db=\"t1\""), std::string::npos);
  EXPECT_NE(text.find("db=\"t3\""), std::string::npos);
  Parse(text);
}

TEST(Metrics, DeclaredTasksStartAtZero) {
  Metrics metrics;
  ResolvedDatabase db = Db("queue");
  LeaseRequeueRule rule;
  rule.table = "tasks";
  db.lease_requeue.push_back(rule);
  metrics.SetDatabases({db});
  std::string text = metrics.Exposition();
  auto s = Parse(text);
  const std::string cp = "{db=\"queue\",task=\"checkpoint\"}";
  // Counters at 0 before any run, so increase() sees the first failure, skip or dead letter.
  EXPECT_EQ(s.count("sqlite_maintd_job_runs_total" + cp), 1u) << text;
  EXPECT_EQ(s.count("sqlite_maintd_job_failures_total" + cp), 1u);
  EXPECT_EQ(s.count("sqlite_maintd_job_skips_total{db=\"queue\",task=\"checkpoint\",reason=\"busy\"}"),
            1u);
  EXPECT_EQ(s.count("sqlite_maintd_job_failures_total{db=\"queue\",task=\"lease_requeue\"}"), 1u);
  EXPECT_EQ(s.count("sqlite_maintd_task_running" + cp), 1u);
  EXPECT_EQ(s.count("sqlite_maintd_rows_dead_total{db=\"queue\"}"), 1u);
  EXPECT_EQ(s.count("sqlite_maintd_rows_requeued_total{db=\"queue\"}"), 1u);
  EXPECT_EQ(s.count("sqlite_maintd_pages_freed_total{db=\"queue\"}"), 1u);
  EXPECT_EQ(s.count("sqlite_maintd_wal_pin_age_seconds{db=\"queue\"}"), 1u);
  for (const auto& [series, value] : s) {
    if (series.rfind("sqlite_maintd_build_info", 0) == 0) continue;
    if (series.rfind("sqlite_maintd_", 0) == 0) {
      EXPECT_EQ(value, 0) << series;
    }
  }
  // No retention rule, no backups: their counters would only ever say 0.
  EXPECT_EQ(text.find("rows_purged_total"), std::string::npos);
  EXPECT_EQ(text.find("backups_deleted_total"), std::string::npos);
  // Measured gauges wait for a measurement: a size of 0 would be a lie.
  EXPECT_EQ(text.find("database_size_bytes"), std::string::npos);
  // Never the labels Prometheus owns.
  EXPECT_EQ(text.find("job="), std::string::npos);
  EXPECT_EQ(text.find("instance="), std::string::npos);
}

// The integrity gate's quick_check at first contact is a health status at once, not only
// after the next hourly health run.
TEST(Metrics, GateChecksAreHealthStatuses) {
  Metrics metrics;
  JobOutcome out = Outcome("checkpoint", 1);
  out.gate_checks.push_back({"quick_check", HealthStatus::kHealthy, nlohmann::json::object()});
  metrics.Record(Db("app"), out);
  auto s = Parse(metrics.Exposition());
  EXPECT_EQ(s.count("sqlite_maintd_health_status{check=\"quick_check\",db=\"app\"}"), 1u);
}

TEST(Metrics, RunningGaugeFollowsJobEvents) {
  Metrics metrics;
  metrics.SetDatabases({Db("app")});
  const std::string key = "sqlite_maintd_task_running{db=\"app\",task=\"checkpoint\"}";
  metrics.SetTaskRunning("app", "checkpoint", true);
  EXPECT_EQ(Parse(metrics.Exposition())[key], 1);
  metrics.SetTaskRunning("app", "checkpoint", false);
  EXPECT_EQ(Parse(metrics.Exposition())[key], 0);
  metrics.SetTaskRunning("gone", "checkpoint", true);  // dropped: no series comes back
  EXPECT_EQ(metrics.Exposition().find("\"gone\""), std::string::npos);
}

TEST(Metrics, SummaryDetailHasOneHistogramPerTask) {
  Metrics metrics;
  std::vector<ResolvedDatabase> many{Db("a"), Db("b")};
  for (int i = 0; i < 20; ++i) many.push_back(Db("tenant" + std::to_string(i)));
  metrics.SetDatabases(many);
  metrics.Record(Db("a"), Outcome("checkpoint", 2));
  metrics.Record(Db("b"), Outcome("checkpoint", 3000));
  size_t full = metrics.Exposition().size();
  metrics.SetDetail(MetricsDetail::kSummary);
  std::string text = metrics.Exposition();
  auto s = Parse(text);
  EXPECT_EQ(text.find("_bucket{db="), std::string::npos) << text;
  EXPECT_EQ(s["sqlite_maintd_job_duration_seconds_bucket{task=\"checkpoint\",le=\"0.005\"}"], 1);
  EXPECT_EQ(s["sqlite_maintd_job_duration_seconds_bucket{task=\"checkpoint\",le=\"+Inf\"}"], 2);
  EXPECT_NEAR(s["sqlite_maintd_job_duration_seconds_sum{task=\"checkpoint\"}"], 3.002, 1e-9);
  // The per-database counters stay.
  EXPECT_EQ(s["sqlite_maintd_job_runs_total{db=\"b\",task=\"checkpoint\"}"], 1);
  // 22 databases with the default jobs: the per-database histograms are most of the text.
  EXPECT_LT(text.size() * 2, full) << "summary must be much smaller";
}

// summary keeps no per-database histogram in memory (that is the point at 10,000
// databases), so after a switch back to full they start again from 0.
TEST(Metrics, SummaryKeepsNoPerDatabaseHistograms) {
  Metrics metrics;
  const std::string count = "sqlite_maintd_job_duration_seconds_count{db=\"a\",task=\"checkpoint\"}";
  metrics.Record(Db("a"), Outcome("checkpoint", 2));
  EXPECT_EQ(Parse(metrics.Exposition())[count], 1);
  metrics.SetDetail(MetricsDetail::kSummary);
  metrics.Record(Db("a"), Outcome("checkpoint", 2));
  auto s = Parse(metrics.Exposition());
  EXPECT_EQ(s.count(count), 0u);
  EXPECT_EQ(s["sqlite_maintd_job_duration_seconds_count{task=\"checkpoint\"}"], 2);
  metrics.SetDetail(MetricsDetail::kFull);
  EXPECT_EQ(Parse(metrics.Exposition())[count], 0) << "a counter reset, as documented";
  metrics.Record(Db("a"), Outcome("checkpoint", 2));
  s = Parse(metrics.Exposition());
  EXPECT_EQ(s[count], 1);
  EXPECT_EQ(s["sqlite_maintd_job_runs_total{db=\"a\",task=\"checkpoint\"}"], 3);
}

TEST(Metrics, BuildInfoAndProcessSeries) {
  Metrics metrics;
  auto s = Parse(metrics.Exposition());
  std::string build;
  for (const auto& [series, value] : s) {
    if (series.rfind("sqlite_maintd_build_info{", 0) == 0) {
      build = series;
      EXPECT_EQ(value, 1);
    }
  }
  EXPECT_TRUE(std::regex_match(
      build, std::regex(R"(sqlite_maintd_build_info\{sqlite_version="3\.\d+\.\d+",version="\d+\.\d+\.\d+"\})")))
      << build;
  double now = static_cast<double>(time(nullptr));
  EXPECT_GT(s["process_start_time_seconds"], now - 3600);
  EXPECT_LE(s["process_start_time_seconds"], now + 1);
  EXPECT_GT(s["process_resident_memory_bytes"], 1 << 20);
  EXPECT_GT(s["process_virtual_memory_bytes"], s["process_resident_memory_bytes"]);
  EXPECT_GE(s["process_open_fds"], 3);
  EXPECT_GE(s["process_max_fds"], s["process_open_fds"]);
  EXPECT_GE(s.count("process_cpu_seconds_total"), 1u);
}

}  // namespace
}  // namespace maintd
