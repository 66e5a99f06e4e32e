// PauseUnlessStopped, the one stop-aware pause: a stop ends it at once (no polling), the
// deadline ends it, and on a FakeClock it takes no real time.
#include "lib/sqlite/pause.h"

#include <gtest/gtest.h>

#include <thread>

namespace maintd {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

TEST(PauseUnlessStopped, FullPauseReturnsTrue) {
  StopToken stop;
  auto start = Steady::now();
  EXPECT_TRUE(PauseUnlessStopped(stop, RealClock::Instance(), 20ms));
  EXPECT_GE(Steady::now() - start, 20ms);
}

TEST(PauseUnlessStopped, RequestStopAndAbortWakeItAtOnce) {
  for (bool abort : {false, true}) {
    StopToken stop;
    auto start = Steady::now();
    std::thread stopper([&] {
      std::this_thread::sleep_for(30ms);
      abort ? stop.Abort() : stop.RequestStop();
    });
    EXPECT_FALSE(PauseUnlessStopped(stop, RealClock::Instance(), 60s));
    EXPECT_LT(Steady::now() - start, 5s) << "abort=" << abort;
    stopper.join();
    // Stopped already: ends before it starts.
    EXPECT_FALSE(PauseUnlessStopped(stop, RealClock::Instance(), 60s));
  }
}

TEST(PauseUnlessStopped, StopFromASignalHandlerIsSeenAtTheNextPause) {
  StopToken stop;
  stop.RequestStopFromSignal();
  EXPECT_TRUE(stop.stop_requested());
  EXPECT_FALSE(PauseUnlessStopped(stop, RealClock::Instance(), 60s));
  stop.Reset();
  EXPECT_TRUE(PauseUnlessStopped(stop, RealClock::Instance(), 1ms));
}

TEST(PauseUnlessStopped, EndsAtTheDeadline) {
  StopToken stop;
  auto start = Steady::now();
  EXPECT_FALSE(PauseUnlessStopped(stop, RealClock::Instance(), 60s, start + 30ms));
  EXPECT_GE(Steady::now() - start, 30ms);
  EXPECT_LT(Steady::now() - start, 5s);
  EXPECT_TRUE(ShouldStop(stop, RealClock::Instance(), start + 30ms));
  EXPECT_FALSE(ShouldStop(stop, RealClock::Instance(), std::nullopt));
}

TEST(PauseUnlessStopped, OnAFakeClockMovesItsTimeInstead) {
  FakeClock clock(SystemTime(1000s));
  StopToken stop;
  SteadyTime t0 = clock.SteadyNow();
  auto real = Steady::now();
  EXPECT_TRUE(PauseUnlessStopped(stop, clock, 1h));
  EXPECT_EQ(clock.SteadyNow() - t0, 1h);
  EXPECT_EQ(clock.Now(), SystemTime(1000s) + 1h);
  // A deadline inside the pause: time moves to it and the pause reports it.
  EXPECT_FALSE(PauseUnlessStopped(stop, clock, 1h, t0 + 90min));
  EXPECT_EQ(clock.SteadyNow() - t0, 90min);
  EXPECT_LT(Steady::now() - real, 5s);
  // Stopped: nothing moves.
  stop.RequestStop();
  EXPECT_FALSE(PauseUnlessStopped(stop, clock, 1h));
  EXPECT_EQ(clock.SteadyNow() - t0, 90min);
}

}  // namespace
}  // namespace maintd
