#pragma once
// Injectable clock (after leveldb's Env): the scheduler and jobs ask it for the time, so
// tests drive time with FakeClock and never sleep.

#include <chrono>
#include <mutex>

namespace maintd {

using SystemTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (for daily_at times and journal timestamps). Thread-safe.
  virtual SystemTime Now() const = 0;
};

class RealClock final : public Clock {
 public:
  SystemTime Now() const override { return std::chrono::system_clock::now(); }
  static const RealClock& Instance() {
    static const RealClock clock;
    return clock;
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime start) : now_(start) {}
  SystemTime Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(std::chrono::system_clock::duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  void Set(SystemTime t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  SystemTime now_;
};

}  // namespace maintd
