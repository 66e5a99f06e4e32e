#pragma once
// sqlite3_interrupt does not cut a busy-handler wait short (BEGIN IMMEDIATE, VACUUM and
// blocking checkpoints wait for locks through it). Under a deadline, cap the connection's
// busy timeout to the time left so a lock wait never outlives the deadline.

#include <algorithm>
#include <chrono>

#include "lib/core/clock.h"
#include "lib/sqlite/busy_timeout.h"
#include "lib/sqlite/connection.h"

namespace maintd {

// Lowers `conn`'s busy timeout to the time left before `deadline` (at least 1 ms, never
// above the current timeout) for the guard's lifetime, then restores it.
class BusyTimeoutCap : public ScopedBusyTimeout {
 public:
  BusyTimeoutCap(Connection& conn, std::chrono::steady_clock::time_point deadline)
      : ScopedBusyTimeout(conn, Capped(conn.busy_timeout(), deadline)) {}

 private:
  static Millis Capped(Millis current, std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    return std::clamp(left, Millis(1), std::max(Millis(1), current));
  }
};

}  // namespace maintd
