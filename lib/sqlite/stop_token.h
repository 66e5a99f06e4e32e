#pragma once
// Cooperative stop for long jobs, plus hard interruption of the SQLite work in flight.
//
// RequestStop(): jobs check stop_requested() at their safe points (between vacuum steps,
// retention batches, ...) and return early with what they did. Abort(): additionally calls
// sqlite3_interrupt on every registered connection, so the statement running now fails with
// SQLITE_INTERRUPT and its transaction rolls back. Thread-safe.

#include <atomic>
#include <mutex>
#include <set>

#include "lib/sqlite/connection.h"

namespace maintd {

class StopToken {
 public:
  bool stop_requested() const { return stop_.load(std::memory_order_acquire); }
  bool aborted() const { return abort_.load(std::memory_order_acquire); }

  void RequestStop() { stop_.store(true, std::memory_order_release); }
  void Abort() {
    abort_.store(true, std::memory_order_release);
    RequestStop();
    std::lock_guard lock(mu_);
    for (Connection* c : connections_) c->Interrupt();
  }
  // Undo a stop (used by the daemon between a graceful stop of the scheduler and the
  // shutdown jobs, which run under their own deadline).
  void Reset() {
    stop_.store(false);
    abort_.store(false);
  }

  // A connection registered here is interrupted by Abort(). Unregister before closing it.
  void Register(Connection* c) {
    std::lock_guard lock(mu_);
    connections_.insert(c);
    if (aborted()) c->Interrupt();
  }
  void Unregister(Connection* c) {
    std::lock_guard lock(mu_);
    connections_.erase(c);
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> abort_{false};
  std::mutex mu_;
  std::set<Connection*> connections_;
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
