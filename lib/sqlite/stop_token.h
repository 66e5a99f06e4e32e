#pragma once
// Cooperative stop for long jobs, plus hard interruption of the SQLite work in flight.
//
// RequestStop(): jobs check stop_requested() at their safe points (between vacuum steps,
// retention batches, ...) and return early with what they did; a pause on this token
// (PauseUnlessStopped, pause.h) ends at once. Abort(): additionally calls sqlite3_interrupt
// on every registered connection, so the statement running now fails with SQLITE_INTERRUPT
// and its transaction rolls back. Thread-safe.
//
// Locking: stop_ and abort_ are atomics (read by every job thread without a lock). mu_
// guards connections_ and is the mutex of cv_: RequestStop() notifies under it, so a pause
// that has just seen "not stopped" cannot miss the wake-up.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>

#include "lib/core/clock.h"
#include "lib/sqlite/connection.h"

namespace maintd {

class StopToken final : public SleepWaker {
 public:
  bool stop_requested() const { return stop_.load(std::memory_order_acquire); }
  bool aborted() const { return abort_.load(std::memory_order_acquire); }

  // Sets the flag and wakes every pause waiting on this token. Takes mu_: not for signal
  // handlers (see RequestStopFromSignal).
  void RequestStop();
  // Async-signal-safe: only sets the flag. Safe points see it at once; a pause in progress
  // sees it when it ends (the pauses are short: tens of milliseconds).
  void RequestStopFromSignal() { stop_.store(true, std::memory_order_release); }
  void Abort();
  // Undo a stop (used by the daemon between a graceful stop of the scheduler and the
  // shutdown jobs, which run under their own deadline).
  void Reset() {
    stop_.store(false);
    abort_.store(false);
  }

  // A connection registered here is interrupted by Abort(). Unregister before closing it.
  void Register(Connection* c);
  void Unregister(Connection* c);

  // SleepWaker: a pause on a real clock waits on cv_ until `until` or a stop.
  bool woken() const override { return stop_requested(); }
  bool WaitUntil(SteadyTime until) override;

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> abort_{false};
  std::mutex mu_;
  std::condition_variable cv_;         // waits under mu_; notified by RequestStop()
  std::set<Connection*> connections_;  // guarded by mu_
};

// Registers a connection for the lifetime of the guard.
class ScopedInterruptible {
 public:
  ScopedInterruptible(StopToken& token, Connection& conn) : token_(token), conn_(conn) {
    token_.Register(&conn_);
  }
  ~ScopedInterruptible() { token_.Unregister(&conn_); }
  ScopedInterruptible(const ScopedInterruptible&) = delete;
  ScopedInterruptible& operator=(const ScopedInterruptible&) = delete;

 private:
  StopToken& token_;
  Connection& conn_;
};

}  // namespace maintd
