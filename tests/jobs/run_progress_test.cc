// The runner's progress sink (lib/jobs/run_progress.h) and the lock file's activity line
// (lib/core/maintainer_lock.h) that `status` reads.
#include "lib/jobs/run_progress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/core/maintainer_lock.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using test::TempDir;

struct Recorder final : ProgressSink {
  std::vector<uint64_t> done;
  void Report(std::string_view, uint64_t d, uint64_t, std::string_view) override {
    done.push_back(d);
  }
};

TEST(RunProgress, ActivityLineRoundTrips) {
  RunningActivity a;
  a.job = "vacuum";
  a.since = SystemTime(std::chrono::seconds(1764500000));
  a.phase = "incremental step";  // spaces become '_': the line splits on spaces
  a.done = 4200;
  a.total = 10000;
  a.unit = "pages";
  std::string line = FormatActivity(a);
  EXPECT_EQ(line,
            "running job=vacuum since=1764500000 phase=incremental_step done=4200 total=10000 "
            "unit=pages");
  auto parsed = ParseActivity(line);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->job, "vacuum");
  EXPECT_EQ(parsed->since, a.since);
  EXPECT_EQ(parsed->done, 4200u);
  EXPECT_EQ(parsed->total, 10000u);
  EXPECT_DOUBLE_EQ(*parsed->fraction(), 0.42);
  // Before the job reports: the job and its start only; no fraction.
  auto bare = ParseActivity("running job=analyze since=1764500000");
  ASSERT_TRUE(bare.has_value());
  EXPECT_FALSE(bare->fraction().has_value());
  EXPECT_FALSE(ParseActivity("integrity=critical at=x").has_value());
  EXPECT_FALSE(ParseActivity("running since=1").has_value());  // no job
}

TEST(RunProgress, WritesAtStartOnPhaseChangesAndAtMostOncePerIntervalThenClears) {
  FakeClock clock(SystemTime(std::chrono::seconds(1764500000)));
  std::vector<std::string> writes;
  Recorder forward;
  {
    RunProgress p("vacuum", clock, &forward,
                  [&](const std::string& line) { writes.push_back(line); });
    p.Start();
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0], "running job=vacuum since=1764500000");
    p.Report("incremental", 0, 100, "pages");  // new phase: written at once
    p.Report("incremental", 10, 100, "pages");  // same second: not written
    p.Report("incremental", 20, 100, "pages");
    EXPECT_EQ(writes.size(), 2u);
    clock.Advance(kActivityInterval);
    p.Report("incremental", 30, 100, "pages");
    ASSERT_EQ(writes.size(), 3u);
    EXPECT_NE(writes[2].find("done=30 total=100"), std::string::npos) << writes[2];
    p.Report("checkpoint", 0, 0, "pages");  // a new phase is written at once
    EXPECT_EQ(writes.size(), 4u);
  }
  // Every report reached the caller's sink; the destructor removed the line.
  EXPECT_EQ(forward.done, (std::vector<uint64_t>{0, 10, 20, 30, 0}));
  ASSERT_EQ(writes.size(), 5u);
  EXPECT_EQ(writes.back(), "");
}

TEST(MaintainerLockActivity, NoteAndActivityLiveSideBySideAndTheNextHolderDropsTheActivity) {
  TempDir dir;
  std::string db = dir.File("app.db");
  {
    auto lock = MaintainerLock::Acquire(db, "");
    ASSERT_TRUE(lock.ok());
    ASSERT_TRUE(lock->WriteNote("integrity=critical at=2026-11-30T10:00:00Z problem=x").ok());
    ASSERT_TRUE(lock->WriteActivity("running job=vacuum since=1").ok());
    MaintainerLock::Content c = MaintainerLock::Read(db, "");
    EXPECT_EQ(c.pid, ::getpid());
    EXPECT_EQ(c.note, "integrity=critical at=2026-11-30T10:00:00Z problem=x");
    EXPECT_EQ(c.activity, "running job=vacuum since=1");
    // A shorter rewrite leaves no tail of the longer one.
    ASSERT_TRUE(lock->WriteActivity("running job=x since=2").ok());
    ASSERT_TRUE(lock->WriteNote("").ok());
    c = MaintainerLock::Read(db, "");
    EXPECT_EQ(c.note, "");
    EXPECT_EQ(c.activity, "running job=x since=2");
    EXPECT_EQ(test::ReadFile(MaintainerLock::LockPathFor(db, "")),
              std::to_string(::getpid()) + "\nactivity running job=x since=2\n");
    ASSERT_TRUE(lock->WriteNote("integrity=critical at=2026-11-30T10:00:00Z problem=y").ok());
  }
  // The holder died mid-job (the lock is released with the line still there): the next
  // holder keeps the note and drops the activity, which was not its own.
  auto next = MaintainerLock::Acquire(db, "");
  ASSERT_TRUE(next.ok());
  MaintainerLock::Content c = MaintainerLock::Read(db, "");
  EXPECT_EQ(c.note, "integrity=critical at=2026-11-30T10:00:00Z problem=y");
  EXPECT_EQ(c.activity, "");
  EXPECT_EQ(MaintainerLock::ReadNote(db, ""), c.note);
}

}  // namespace
}  // namespace maintd
