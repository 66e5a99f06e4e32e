// Clock: steady time and sleeps, real and fake. A FakeClock's sleep moves its time and
// returns at once; a woken waker ends a sleep before it starts.
#include "lib/core/clock.h"

#include <gtest/gtest.h>

namespace maintd {
namespace {

using namespace std::chrono_literals;

// A waker that is woken or not, and records real waits.
class TestWaker final : public SleepWaker {
 public:
  explicit TestWaker(bool woken) : woken_(woken) {}
  bool woken() const override { return woken_; }
  bool WaitUntil(SteadyTime until) override {
    ++waits;
    std::this_thread::sleep_until(until);
    return woken_;
  }
  int waits = 0;

 private:
  bool woken_;
};

TEST(FakeClock, AdvanceMovesWallAndSteadyTime) {
  FakeClock clock(SystemTime(1000s));
  SteadyTime steady = clock.SteadyNow();
  clock.Advance(90s);
  EXPECT_EQ(clock.Now(), SystemTime(1090s));
  EXPECT_EQ(clock.SteadyNow() - steady, 90s);
  clock.Set(SystemTime(5s));  // wall time only
  EXPECT_EQ(clock.Now(), SystemTime(5s));
  EXPECT_EQ(clock.SteadyNow() - steady, 90s);
}

TEST(FakeClock, SleepMovesTimeWithoutSleeping) {
  FakeClock clock(SystemTime(1000s));
  SteadyTime steady = clock.SteadyNow();
  auto real = std::chrono::steady_clock::now();
  clock.SleepFor(1h);
  EXPECT_TRUE(clock.SleepUntil(clock.SteadyNow() + 30min, nullptr));
  EXPECT_LT(std::chrono::steady_clock::now() - real, 1s);
  EXPECT_EQ(clock.SteadyNow() - steady, 90min);
  EXPECT_EQ(clock.Now(), SystemTime(1000s) + 90min);
  // A time already passed: nothing moves.
  EXPECT_TRUE(clock.SleepUntil(steady, nullptr));
  EXPECT_EQ(clock.SteadyNow() - steady, 90min);
}

TEST(FakeClock, WokenWakerEndsTheSleepAtOnce) {
  FakeClock clock(SystemTime(1000s));
  SteadyTime steady = clock.SteadyNow();
  TestWaker woken(true), quiet(false);
  EXPECT_FALSE(clock.SleepUntil(steady + 1h, &woken));
  EXPECT_EQ(clock.SteadyNow(), steady);
  EXPECT_TRUE(clock.SleepUntil(steady + 1h, &quiet));
  EXPECT_EQ(clock.SteadyNow() - steady, 1h);
  EXPECT_EQ(quiet.waits, 0);  // no real wait
}

TEST(FakeClock, RealSleepsWaitInRealTimeToo) {
  FakeClock clock(SystemTime(1000s));
  clock.SetRealSleeps(true);
  TestWaker quiet(false);
  auto real = std::chrono::steady_clock::now();
  SteadyTime steady = clock.SteadyNow();
  EXPECT_TRUE(clock.SleepUntil(steady + 30ms, &quiet));
  EXPECT_GE(std::chrono::steady_clock::now() - real, 30ms);
  EXPECT_EQ(quiet.waits, 1);
  EXPECT_EQ(clock.SteadyNow() - steady, 30ms);
}

TEST(RealClock, SleepsInRealTimeAndAsksTheWaker) {
  const Clock& clock = RealClock::Instance();
  SteadyTime start = clock.SteadyNow();
  clock.SleepFor(20ms);
  EXPECT_GE(clock.SteadyNow() - start, 20ms);
  TestWaker woken(true), quiet(false);
  EXPECT_FALSE(clock.SleepUntil(clock.SteadyNow() + 1ms, &woken));
  EXPECT_TRUE(clock.SleepUntil(clock.SteadyNow() + 1ms, &quiet));
  EXPECT_EQ(woken.waits + quiet.waits, 2);
}

}  // namespace
}  // namespace maintd
