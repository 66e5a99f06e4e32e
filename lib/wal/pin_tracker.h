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
//
// Memory (issue 14: one tracker per database, 10,000 databases, almost none ever pinned):
// the pin bookkeeping lives behind a pointer, allocated when a probe first shows a reader
// and freed once no reader is seen and no pin is reported any more.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
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
  // Kept while a reader is seen or a pin is reported; reached through pins_ (guarded by mu_).
  struct Pins {
    std::map<Key, SteadyTime> first_seen;  // pins seen in the last probe
    std::optional<Key> reported;           // the pin last reported
    SteadyTime reported_since{};
    std::string reported_what;             // "pid 42 (cmd)"
  };
  mutable std::mutex mu_;
  uint64_t salts_ = 0;          // meaningful when salts_known_; guarded by mu_
  SteadyTime last_reset_{};     // meaningful when salts_known_; guarded by mu_
  bool salts_known_ = false;    // the log was read: salts_, last_reset_ set; guarded by mu_
  std::unique_ptr<Pins> pins_;  // null while no reader is seen and none reported; guarded by mu_
};

}  // namespace maintd
