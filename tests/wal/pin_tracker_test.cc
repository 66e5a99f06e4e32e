// What the daemon remembers of one database's WAL between runs (lib/wal/pin_tracker.h),
// fed with probes as lib/wal/pin.h reports them (the real readers are in wal_pin_test.cc
// and wal_pin_jobs_test.cc): a pin is dated from its first sighting, reported once when it
// reaches report_after, cleared once, and forgotten with it: the same reader seen again
// later is a new pin, dated anew.
#include "lib/wal/pin_tracker.h"

#include <gtest/gtest.h>

#include <mutex>

namespace maintd {
namespace {

using namespace std::chrono_literals;
using SteadyTime = WalPinTracker::SteadyTime;

WalPinProbe Probe(uint64_t salts, uint32_t max_frame, uint32_t backfilled,
                  std::vector<WalReader> readers) {
  WalPinProbe p;
  p.wal.state = WalIndexState::kRead;
  p.wal.salts = salts;
  p.wal.max_frame = max_frame;
  p.wal.ckpt.backfilled = backfilled;
  p.wal.wal_bytes = 4096;
  p.readers = std::move(readers);
  return p;
}

WalReader Reader(pid_t pid, int slot, uint32_t read_mark) {
  WalReader r;
  r.pid = pid;
  r.slot = slot;
  r.read_mark = read_mark;
  r.command = "app";
  r.blocks_backfill = true;
  return r;
}

TEST(WalPinTracker, APinIsReportedOnceClearedOnceAndThenForgotten) {
  WalPinTracker tracker;
  const SteadyTime t0 = SteadyTime{} + 1000h;
  const auto report_after = 10min;

  // No reader: nothing to report, the log's reset is dated.
  PinObservation o = tracker.Observe(Probe(1, 10, 10, {}), t0, report_after, "app");
  EXPECT_FALSE(o.reported);
  EXPECT_TRUE(o.seconds.empty());

  o = tracker.Observe(Probe(1, 20, 10, {Reader(42, 1, 10)}), t0 + 1min, report_after, "app");
  ASSERT_EQ(o.seconds.size(), 1u);
  EXPECT_EQ(o.seconds[0], 0) << "dated from its first sighting";
  EXPECT_FALSE(o.reported);
  EXPECT_EQ(o.unreset_seconds, 60);

  o = tracker.Observe(Probe(1, 30, 10, {Reader(42, 1, 10)}), t0 + 11min, report_after, "app");
  EXPECT_EQ(o.oldest_seconds, 600);
  EXPECT_TRUE(o.reported);
  EXPECT_NE(o.started.find("db=app WAL pinned by pid 42"), std::string::npos) << o.started;
  EXPECT_TRUE(o.cleared.empty());

  o = tracker.Observe(Probe(1, 40, 10, {Reader(42, 1, 10)}), t0 + 20min, report_after, "app");
  EXPECT_TRUE(o.reported);
  EXPECT_TRUE(o.started.empty()) << "reported once";

  // The reader went away and the log was reset: cleared once, with the pin's duration.
  o = tracker.Observe(Probe(2, 0, 0, {}), t0 + 25min, report_after, "app");
  EXPECT_FALSE(o.reported);
  EXPECT_TRUE(o.reset_since_last);
  EXPECT_NE(o.cleared.find("WAL pin by pid 42 (app) cleared after 1440s"), std::string::npos)
      << o.cleared;
  EXPECT_NE(o.cleared.find("(the log was reset)"), std::string::npos) << o.cleared;
  o = tracker.Observe(Probe(2, 5, 5, {}), t0 + 26min, report_after, "app");
  EXPECT_TRUE(o.cleared.empty()) << "cleared once";

  // The same reader (same pid, slot, read mark) later is a new pin: nothing of the old one
  // is left to date it from.
  o = tracker.Observe(Probe(2, 20, 5, {Reader(42, 1, 10)}), t0 + 40min, report_after, "app");
  ASSERT_EQ(o.seconds.size(), 1u);
  EXPECT_EQ(o.seconds[0], 0);
  EXPECT_FALSE(o.reported);
  o = tracker.Observe(Probe(2, 30, 5, {Reader(42, 1, 10)}), t0 + 50min, report_after, "app");
  EXPECT_TRUE(o.reported);
  EXPECT_FALSE(o.started.empty()) << "a new pin is reported again";
}

TEST(WalPinTracker, TheOldestOfTwoReadersIsReportedAndAShortOneNever) {
  WalPinTracker tracker;
  const SteadyTime t0 = SteadyTime{} + 1000h;
  tracker.Observe(Probe(1, 10, 0, {Reader(7, 1, 3)}), t0, 10min, "app");
  PinObservation o = tracker.Observe(Probe(1, 20, 0, {Reader(8, 2, 9), Reader(7, 1, 3)}),
                                     t0 + 10min, 10min, "app");
  ASSERT_EQ(o.seconds.size(), 2u);
  EXPECT_EQ(o.seconds[0], 0);
  EXPECT_EQ(o.seconds[1], 600);
  EXPECT_EQ(o.oldest, 1u);
  EXPECT_TRUE(o.reported);
  EXPECT_NE(o.started.find("pid 7"), std::string::npos) << o.started;
  // The old one leaves; the young one has not reached report_after: the pin clears.
  o = tracker.Observe(Probe(1, 20, 0, {Reader(8, 2, 9)}), t0 + 15min, 10min, "app");
  EXPECT_FALSE(o.reported);
  EXPECT_NE(o.cleared.find("pid 7"), std::string::npos) << o.cleared;
  EXPECT_EQ(o.seconds[0], 300) << "the young reader keeps its own date";
}

// Issue 14: one tracker per database, 10,000 databases, almost none ever pinned. The bound
// holds for 64-bit libstdc++ (a 40-byte std::mutex); elsewhere it is not checked.
TEST(WalPinTracker, PerDatabaseFootprintStaysSmall) {
  if (sizeof(void*) != 8 || sizeof(std::mutex) != 40) GTEST_SKIP() << "other ABI";
  EXPECT_LE(sizeof(WalPinTracker), 72u);
}

}  // namespace
}  // namespace maintd
