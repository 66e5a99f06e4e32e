#include "lib/wal/pin_tracker.h"

namespace maintd {

PinObservation WalPinTracker::Observe(const WalPinProbe& probe, SteadyTime now,
                                      std::chrono::milliseconds report_after, const std::string& db) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  PinObservation obs;
  std::lock_guard lock(mu_);
  const WalIndexSnapshot& wal = probe.wal;
  if (wal.state == WalIndexState::kRead) {
    bool empty = wal.max_frame == 0;
    if (!salts_known_ || salts_ != wal.salts || empty) {
      obs.reset_since_last = salts_known_ && (salts_ != wal.salts || empty);
      last_reset_ = now;
    }
    salts_ = wal.salts;
    salts_known_ = true;
    if (wal.ckpt.backfilled < wal.max_frame) {
      obs.unreset_seconds = duration_cast<seconds>(now - last_reset_).count();
    }
  }
  // Nothing seen and nothing reported: nothing to remember.
  if (probe.readers.empty() && !pins_) return obs;
  if (!pins_) pins_ = std::make_unique<Pins>();
  Pins& pins = *pins_;
  std::map<Key, SteadyTime> seen;
  for (size_t i = 0; i < probe.readers.size(); ++i) {
    const WalReader& r = probe.readers[i];
    Key key{r.pid, r.slot, r.read_mark};
    auto it = pins.first_seen.find(key);
    SteadyTime since = it == pins.first_seen.end() ? now : it->second;
    seen[key] = since;
    int64_t age = duration_cast<seconds>(now - since).count();
    obs.seconds.push_back(age);
    if (i == 0 || age > obs.oldest_seconds) {
      obs.oldest_seconds = age;
      obs.oldest = i;
    }
  }
  pins.first_seen = std::move(seen);

  std::optional<Key> oldest;
  if (!probe.readers.empty()) {
    const WalReader& r = probe.readers[obs.oldest];
    oldest = Key{r.pid, r.slot, r.read_mark};
    obs.reported = now - pins.first_seen[*oldest] >= report_after;
  }
  if (obs.reported) {
    const WalReader& r = probe.readers[obs.oldest];
    const Key& key = *oldest;
    if (pins.reported != key) {
      if (!pins.reported) pins.reported_since = pins.first_seen[key];
      pins.reported = key;
      pins.reported_what = DescribeReader(r);
      obs.started = "db=" + db + " WAL pinned by " + DescribeReader(r) + " for " +
                    std::to_string(obs.oldest_seconds) + "s: slot " + std::to_string(r.slot) +
                    ", read mark " + std::to_string(r.read_mark) + " of " +
                    std::to_string(wal.max_frame) + " frames, " +
                    std::to_string(wal.ckpt.backfilled) + " checkpointed, WAL " +
                    std::to_string(wal.wal_bytes) + " bytes" +
                    (r.visible() ? std::string() : std::string("; ") + kPidNotVisibleHint);
    }
  } else if (pins.reported) {
    obs.cleared = "db=" + db + " WAL pin by " + pins.reported_what + " cleared after " +
                  std::to_string(duration_cast<seconds>(now - pins.reported_since).count()) +
                  "s: no reader has held back the checkpoint that long" +
                  (obs.reset_since_last ? " (the log was reset)" : "");
    pins.reported.reset();
  }
  // The pin cleared (no reader left, none reported): free the bookkeeping.
  if (pins.first_seen.empty() && !pins.reported) pins_.reset();
  return obs;
}

}  // namespace maintd
