#pragma once
// Injectable clock (after leveldb's Env: NowMicros, SleepForMicroseconds): the scheduler and
// jobs ask it for the time and pause through it, so tests drive time with FakeClock and
// never sleep.

#include <chrono>
#include <mutex>
#include <thread>

namespace maintd {

using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

// What can end a sleep early: a StopToken (lib/sqlite/stop_token.h). Thread-safe.
class SleepWaker {
 public:
  virtual ~SleepWaker() = default;
  // True once sleeps should end.
  virtual bool woken() const = 0;
  // Blocks until woken() or the real steady time `until`; returns woken().
  virtual bool WaitUntil(SteadyTime until) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (for daily_at times and journal timestamps). Thread-safe.
  virtual SystemTime Now() const = 0;
  // Monotonic time (pauses, deadlines). Thread-safe.
  virtual SteadyTime SteadyNow() const = 0;
  // Sleeps until SteadyNow() reaches `until`, or until `waker` (may be null) is woken;
  // returns false when it ended early on the waker. Thread-safe.
  virtual bool SleepUntil(SteadyTime until, SleepWaker* waker) const = 0;
  void SleepFor(Millis d) const { (void)SleepUntil(SteadyNow() + d, nullptr); }
};

class RealClock final : public Clock {
 public:
  SystemTime Now() const override { return std::chrono::system_clock::now(); }
  SteadyTime SteadyNow() const override { return std::chrono::steady_clock::now(); }
  bool SleepUntil(SteadyTime until, SleepWaker* waker) const override {
    if (waker != nullptr) return !waker->WaitUntil(until);
    std::this_thread::sleep_until(until);
    return true;
  }
  static const RealClock& Instance() {
    static const RealClock clock;
    return clock;
  }
};

// A clock that moves only when told to: Advance() moves both times, Set() the wall time. A
// sleep on it returns at once, having moved both times to its end, unless the waker is
// woken already. SetRealSleeps(true) makes sleeps also wait that long in real time, for
// tests whose pauses must let another process in (a writer, a kill).
// Thread-safe: mu_ guards now_, steady_ and real_sleeps_.
class FakeClock final : public Clock {
 public:
  // The steady time starts at the real steady time of the construction, so deadlines taken
  // from std::chrono::steady_clock compare sensibly with it.
  explicit FakeClock(SystemTime start) : now_(start), steady_(std::chrono::steady_clock::now()) {}
  SystemTime Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  SteadyTime SteadyNow() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  bool SleepUntil(SteadyTime until, SleepWaker* waker) const override {
    if (waker != nullptr && waker->woken()) return false;
    std::unique_lock lock(mu_);
    if (until <= steady_) return true;
    auto d = until - steady_;
    now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    steady_ = until;
    if (!real_sleeps_) return true;
    lock.unlock();
    if (waker != nullptr) return !waker->WaitUntil(std::chrono::steady_clock::now() + d);
    std::this_thread::sleep_for(d);
    return true;
  }
  void Advance(std::chrono::system_clock::duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
    steady_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
  }
  void Set(SystemTime t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }
  void SetRealSleeps(bool real) {
    std::lock_guard lock(mu_);
    real_sleeps_ = real;
  }

 private:
  mutable std::mutex mu_;
  mutable SystemTime now_;  // a sleep moves it: sleeping is what a const clock does
  mutable SteadyTime steady_;
  bool real_sleeps_ = false;
};

}  // namespace maintd
