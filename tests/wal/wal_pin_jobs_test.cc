// The wal_pin check and the checkpoint job with a real reader process pinning the WAL: the
// health row's thresholds on an injected clock, one log line when a pin starts being
// reported and one when it clears, and a checkpoint that does not escalate while pinned.
#include <gtest/gtest.h>
#include "lib/jobs/checkpoint.h"
#include "lib/jobs/health.h"
#include "lib/jobs/wal_pin.h"
#include "tests/support/job_util.h"
#include "tests/support/log_capture.h"
#include "tests/support/reader.h"
#include "tests/support/test_util.h"
#include "tests/wal/wal_test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;

class WalPinJobsTest : public test::WalDbTest {
 protected:
  void SetUp() override {
    WalDbTest::SetUp();
    entry_.policy.health.wal_pin_warning = 2s;
    entry_.policy.health.wal_pin_critical = 60s;
  }
  Result<JobReport> Run(Job& job) {
    Connection conn = test::OpenTestDb(db_, 1s);
    StopToken stop;
    JobContext ctx{entry_, &conn, nullptr, clock_, stop, JobTrigger::kScheduled, std::nullopt};
    ctx.wal_pins = &tracker_;
    return job.Run(ctx);
  }
  // The wal_pin row of one health run.
  CheckRow HealthRow() {
    auto job = MakeHealthJob(entry_);
    auto report = Run(*job);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (report.ok()) {
      for (const CheckRow& row : report->checks) {
        if (row.check_type == "wal_pin") return row;
      }
    }
    ADD_FAILURE() << "no wal_pin row";
    return {};
  }

  ResolvedDatabase entry_ = test::TestDbEntry(db_);
  FakeClock clock_{std::chrono::system_clock::now()};
  WalPinTracker tracker_;
  test::CapturedLog log_;
};

TEST_F(WalPinJobsTest, ShortReaderIsNeverReported) {
  test::Reader reader(db_, dir_.path());
  ASSERT_TRUE(reader.WaitReading(10s));
  Commit(2);
  CheckRow row = HealthRow();
  EXPECT_EQ(row.status, HealthStatus::kHealthy);
  ASSERT_EQ(row.details["readers"].size(), 1u) << "listed, at 0 s";
  clock_.Advance(1500ms);  // below wal_pin_warning (2s)
  EXPECT_EQ(HealthRow().status, HealthStatus::kHealthy);
  ASSERT_TRUE(reader.Release(10s));
  Commit();
  clock_.Advance(10s);
  row = HealthRow();
  EXPECT_EQ(row.status, HealthStatus::kHealthy);
  EXPECT_TRUE(row.details["readers"].empty());
  EXPECT_EQ(log_.Count("WAL pin"), 0) << log_.text();
}

TEST_F(WalPinJobsTest, PinWarnsOnceThenCriticalThenClearsOnce) {
  test::Reader reader(db_, dir_.path());
  ASSERT_TRUE(reader.WaitReading(10s));
  Commit(2);
  EXPECT_EQ(HealthRow().status, HealthStatus::kHealthy);
  clock_.Advance(3s);
  Commit();
  CheckRow row = HealthRow();
  EXPECT_EQ(row.status, HealthStatus::kWarning) << row.details.dump();
  EXPECT_EQ(row.details["pid"], reader.pid());
  EXPECT_GE(row.details["seconds"].get<int64_t>(), 3);
  EXPECT_NE(row.details["command"].get<std::string>().find("maintd-test-reader"), std::string::npos);
  EXPECT_LT(row.details["read_mark"].get<int64_t>(), row.details["frames"].get<int64_t>());
  EXPECT_GT(row.details["wal_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(HealthRow().status, HealthStatus::kWarning);
  clock_.Advance(60s);
  EXPECT_EQ(HealthRow().status, HealthStatus::kCritical) << "past wal_pin_critical";
  ASSERT_TRUE(reader.Release(10s));
  Commit();
  row = HealthRow();
  EXPECT_EQ(row.status, HealthStatus::kHealthy) << row.details.dump();
  EXPECT_EQ(HealthRow().status, HealthStatus::kHealthy);
  EXPECT_EQ(log_.Count("WAL pinned by pid " + std::to_string(reader.pid())), 1) << log_.text();
  EXPECT_EQ(log_.Count("cleared after"), 1) << log_.text();
}

TEST_F(WalPinJobsTest, CriticalWhenTheWalPassesWalWarningWhilePinned) {
  entry_.policy.health.wal_warning = 1024;
  test::Reader reader(db_, dir_.path());
  ASSERT_TRUE(reader.WaitReading(10s));
  Commit(10);
  HealthRow();
  clock_.Advance(3s);
  EXPECT_EQ(HealthRow().status, HealthStatus::kCritical);
}

TEST_F(WalPinJobsTest, CheckpointRunsPassiveAndSaysWhoItWaitsFor) {
  entry_.policy.checkpoint.truncate_wal_above = 1;  // would escalate to TRUNCATE
  test::Reader reader(db_, dir_.path());
  ASSERT_TRUE(reader.WaitReading(10s));
  Commit(5);
  auto job = MakeCheckpointJob(entry_);
  auto report = Run(*job);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const nlohmann::json& d = report->checks.at(0).details;
  EXPECT_EQ(d["mode"], "passive") << d.dump();
  EXPECT_EQ(d["escalated"], false);
  EXPECT_NE(d["waiting_for"].get<std::string>().find("pid " + std::to_string(reader.pid())),
            std::string::npos);
  EXPECT_NE(report->summary.find("waiting for pid " + std::to_string(reader.pid())),
            std::string::npos) << report->summary;
  EXPECT_EQ(d["wal"]["log_reset_possible"], false);
  EXPECT_GT(d["wal"]["frames"].get<int64_t>(), d["wal"]["frames_backfilled"].get<int64_t>());
  ASSERT_TRUE(report->figures.wal_frames_not_checkpointed.has_value());
  EXPECT_GT(*report->figures.wal_frames_not_checkpointed, 0);
  EXPECT_EQ(report->figures.wal_pin_age_seconds, 0);

  ASSERT_TRUE(reader.Release(10s));
  report = Run(*job);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const nlohmann::json& after = report->checks.at(0).details;
  EXPECT_EQ(after["mode"], "truncate") << after.dump();
  EXPECT_EQ(after["wal_bytes_after"], 0);
  EXPECT_FALSE(after.contains("waiting_for"));
  EXPECT_EQ(after["wal"]["log_reset"], true);
  EXPECT_EQ(report->figures.wal_frames_not_checkpointed, 0);
}

}  // namespace
}  // namespace maintd
