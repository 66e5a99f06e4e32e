// Warnings per state change, not per run (lib/jobs/state_change_log.h), on a FakeClock:
// logged when a condition appears, again after an hour while it stays, once when it clears.
#include "lib/jobs/state_change_log.h"

#include <gtest/gtest.h>

#include <mutex>

#include "tests/support/log_capture.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;
using Event = StateChangeLog::Event;

using test::CapturedLog;

TEST(StateChangeLog, OnceAtAppearanceAgainAfterAnHourOnceAtClearing) {
  FakeClock clock(SystemTime{} + 1000h);
  StateChangeLog log;
  EXPECT_EQ(log.Holds("frag", "too_slow", clock), Event::kAppeared);
  const SystemTime appeared = clock.Now();
  for (int run = 0; run < 5; ++run) {  // every 15 min: within the hour, nothing to log
    clock.Advance(11min);
    EXPECT_EQ(log.Holds("frag", "too_slow", clock), Event::kNone) << run;
  }
  clock.Advance(5min);  // 60 min after the first line
  EXPECT_EQ(log.Holds("frag", "too_slow", clock), Event::kReminder);
  EXPECT_EQ(log.Holds("frag", "too_slow", clock), Event::kNone);
  EXPECT_EQ(log.Since("frag"), appeared);  // a reminder keeps the start of the condition
  clock.Advance(59min);
  EXPECT_EQ(log.Holds("frag", "too_slow", clock), Event::kNone);
  clock.Advance(1min);
  EXPECT_EQ(log.Holds("frag", "too_slow", clock), Event::kReminder);

  EXPECT_EQ(log.Clears("frag"), Event::kCleared);
  EXPECT_EQ(log.Clears("frag"), Event::kNone);  // once
  EXPECT_EQ(log.Since("frag"), std::nullopt);
  EXPECT_EQ(log.Holds("frag", "too_slow", clock), Event::kAppeared);  // back again
}

TEST(StateChangeLog, AChangeOfVariantIsANewStateAndKeysAreIndependent) {
  FakeClock clock(SystemTime{} + 1000h);
  StateChangeLog log;
  EXPECT_EQ(log.Holds("none", "too_slow", clock), Event::kAppeared);
  EXPECT_EQ(log.Holds("wal", "big", clock), Event::kAppeared);
  clock.Advance(10min);
  EXPECT_EQ(log.Holds("none", "refused", clock), Event::kChanged);
  EXPECT_EQ(log.Since("none"), clock.Now());
  EXPECT_EQ(log.Holds("none", "refused", clock), Event::kNone);
  EXPECT_EQ(log.Holds("wal", "big", clock), Event::kNone);
  EXPECT_EQ(log.Clears("wal"), Event::kCleared);
  EXPECT_EQ(log.Holds("none", "refused", clock), Event::kNone);
}

TEST(StateChangeLog, ClearingOneConditionKeepsTheOthersAsTheyWere) {
  FakeClock clock(SystemTime{} + 1000h);
  StateChangeLog log;
  EXPECT_EQ(log.Holds("a", "x", clock), Event::kAppeared);
  const SystemTime a_since = clock.Now();
  clock.Advance(1min);
  EXPECT_EQ(log.Holds("b", "y", clock), Event::kAppeared);
  clock.Advance(1min);
  EXPECT_EQ(log.Holds("c", "z", clock), Event::kAppeared);
  const SystemTime c_since = clock.Now();
  EXPECT_EQ(log.Clears("b"), Event::kCleared);  // the one in the middle
  EXPECT_EQ(log.Since("b"), std::nullopt);
  EXPECT_EQ(log.Since("a"), a_since);
  EXPECT_EQ(log.Since("c"), c_since);
  EXPECT_EQ(log.Holds("a", "x", clock), Event::kNone);
  EXPECT_EQ(log.Holds("c", "z", clock), Event::kNone);
  clock.Advance(58min);  // an hour after "a" appeared, 58 min after "c"
  EXPECT_EQ(log.Holds("c", "z", clock), Event::kNone);
  EXPECT_EQ(log.Holds("a", "x", clock), Event::kReminder);
  // Every condition cleared, then one back: it appears anew.
  EXPECT_EQ(log.Clears("a"), Event::kCleared);
  EXPECT_EQ(log.Clears("c"), Event::kCleared);
  EXPECT_EQ(log.Holds("c", "z", clock), Event::kAppeared);
  EXPECT_EQ(log.Since("c"), clock.Now());
}

// Issue 14: three per database, 10,000 databases. The bound holds for 64-bit libstdc++
// (a 40-byte std::mutex); elsewhere it is not checked.
TEST(StateChangeLog, PerDatabaseFootprintStaysSmall) {
  if (sizeof(void*) != 8 || sizeof(std::mutex) != 40) GTEST_SKIP() << "other ABI";
  EXPECT_LE(sizeof(StateChangeLog), 72u);
}

TEST(StateChangeLog, LogWritesOneLinePerStateChange) {
  CapturedLog captured;
  FakeClock clock(SystemTime{} + 1000h);
  StateChangeLog log;
  for (int run = 0; run < 4; ++run) {  // four runs, 15 min apart
    log.Log("none", "too_slow", spdlog::level::warn, "db=a left alone", clock);
    clock.Advance(15min);
  }
  EXPECT_EQ(captured.Count("warning db=a left alone"), 1) << captured.text();
  EXPECT_EQ(captured.Count("unchanged since"), 0);
  log.Log("none", "too_slow", spdlog::level::warn, "db=a left alone", clock);  // 1 h later
  EXPECT_EQ(captured.Count("warning db=a left alone"), 2) << captured.text();
  EXPECT_EQ(captured.Count("(unchanged since 1970-02-11T16:00:00Z)"), 1) << captured.text();
  EXPECT_EQ(log.LogCleared("none", "db=a cleared"), Event::kCleared);
  EXPECT_EQ(log.LogCleared("none", "db=a cleared"), Event::kNone);
  EXPECT_EQ(captured.Count("info db=a cleared"), 1) << captured.text();
}

}  // namespace
}  // namespace maintd
