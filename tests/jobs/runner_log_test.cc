// The runner logs a lasting warning per state change, not per run (issue 12): at warn when
// it appears, changes or has lasted another hour; at info in between; once when it clears.
// Journal rows are written every run all the same.
#include <gtest/gtest.h>

#include "lib/jobs/health.h"
#include "lib/jobs/maintained_database.h"
#include "tests/support/job_util.h"
#include "tests/support/log_capture.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

// A job whose one row says what the test tells it (a WAL above its threshold, say).
class ConditionJob final : public Job {
 public:
  std::string name() const override { return "condition"; }
  JobTraits traits() const override { return {DbAccess::kReadOnly}; }
  Result<JobReport> Run(JobContext&) override {
    JobReport report;
    report.status = status;
    report.checks.push_back({"wal_size", status, {{"wal_bytes", 1}}});
    report.summary = std::string("wal_size ") + ToString(status);
    return report;
  }
  HealthStatus status = HealthStatus::kWarning;
};

TEST(RunnerLog, AWarningThatStaysIsLoggedOncePerStateChangeAndHourly) {
  test::TempDir dir;
  std::string path = dir.File("app.db");
  test::MakeWalDb(path, 10);
  FakeClock clock(std::chrono::system_clock::now());
  MaintainerOptions options;
  options.clock = &clock;
  auto mdb = MaintainedDatabase::Acquire(test::TestDbEntry(path), options);
  ASSERT_TRUE(mdb.ok()) << mdb.status().ToString();
  StopToken stop;
  ConditionJob job;
  test::CapturedLog log;
  auto run = [&] { (void)(*mdb)->Run(job, JobTrigger::kScheduled, stop); };

  for (int i = 0; i < 4; ++i) run();
  EXPECT_EQ(log.Count("warning db=app job=condition status=warning"), 1) << log.text();
  EXPECT_EQ(log.Count("info db=app job=condition status=warning"), 3) << log.text();
  EXPECT_EQ(log.Count("(unchanged since "), 3);

  clock.Advance(std::chrono::minutes(61));  // a reminder an hour later
  run();
  EXPECT_EQ(log.Count("warning db=app job=condition status=warning"), 2) << log.text();

  job.status = HealthStatus::kHealthy;  // cleared: said once
  run();
  run();
  EXPECT_EQ(log.Count("(the earlier warning cleared)"), 1) << log.text();

  job.status = HealthStatus::kWarning;  // back again: a new state change
  run();
  EXPECT_EQ(log.Count("warning db=app job=condition status=warning"), 3) << log.text();
  // Every run wrote its row.
  EXPECT_EQ(test::QueryInt(path, "SELECT count(*) FROM sqlite_health_checks WHERE "
                                 "check_type = 'wal_size'"),
            8);
}

}  // namespace
}  // namespace maintd
