#pragma once
// A connection's busy timeout changed for a scope: blocking checkpoints wait for their locks
// only briefly, lock waits under a deadline end at the deadline (lib/vacuum/busy_timeout_cap.h).

#include "lib/core/clock.h"
#include "lib/sqlite/connection.h"

namespace maintd {

// Sets `conn`'s busy timeout to `temporary` for the guard's lifetime, then restores it.
class ScopedBusyTimeout {
 public:
  ScopedBusyTimeout(Connection& conn, Millis temporary) : conn_(conn), saved_(conn.busy_timeout()) {
    conn_.SetBusyTimeout(temporary);
  }
  ~ScopedBusyTimeout() { conn_.SetBusyTimeout(saved_); }
  ScopedBusyTimeout(const ScopedBusyTimeout&) = delete;
  ScopedBusyTimeout& operator=(const ScopedBusyTimeout&) = delete;

 private:
  Connection& conn_;
  Millis saved_;
};

}  // namespace maintd
