#pragma once
// What the daemon remembers of one database's WAL between runs: since when it has seen the
// same pin (same pid, slot and read mark), when it last saw the log reset, and whether a pin
// is being reported (so a pin logs one line when it starts being reported and one when it
// clears, not one per run). Owned by MaintainedDatabase, handed to the checkpoint and health
// jobs through JobContext::wal_pins (null where nothing is remembered: each probe is then
// "seen now").
//
// Thread-safety: Observe() may be called from any thread; mu_ guards every member (runs of
// one database never overlap, so it is taken uncontended, but nothing relies on that).

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "lib/wal/pin.h"

namespace maintd {

struct PinObservation {
  // Seconds the tracker has seen each reader of the probe (parallel to probe.readers).
  std::vector<int64_t> seconds;
  int64_t oldest_seconds = 0;   // the longest of them (0 when none)
  size_t oldest = 0;            // its index in probe.readers (when any)
  // Seconds since the log was last seen reset while frames waited to be checkpointed (0
  // when every frame is backfilled or the log is empty): "checkpoint starvation".
  int64_t unreset_seconds = 0;
  bool reset_since_last = false;  // the salts changed (or the log emptied) since last seen
  // Log lines to write, once each: a pin reached `report_after` / no pin is reported any more.
  std::string started;
  std::string cleared;
  bool reported = false;  // a pin is being reported (oldest_seconds >= report_after)
};

class WalPinTracker {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // Records `probe` seen at `now`; a pin is reported from `report_after` on. `db` names the
  // database in the log lines.
  PinObservation Observe(const WalPinProbe& probe, SteadyTime now, std::chrono::milliseconds report_after,
                         const std::string& db);

 private:
  using Key = std::tuple<pid_t, int, uint32_t>;  // pid, slot, read mark
  mutable std::mutex mu_;
  std::map<Key, SteadyTime> first_seen_;  // pins seen in the last probe; guarded by mu_
  std::optional<uint64_t> salts_;         // guarded by mu_
  std::optional<SteadyTime> last_reset_;  // guarded by mu_
  std::optional<Key> reported_;           // the pin last reported; guarded by mu_
  SteadyTime reported_since_{};           // guarded by mu_
  std::string reported_what_;             // "pid 42 (cmd)"; guarded by mu_
};

}  // namespace maintd
