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
    if (!salts_ || *salts_ != wal.salts || empty) {
      obs.reset_since_last = salts_.has_value() && (*salts_ != wal.salts || empty);
      last_reset_ = now;
    }
    salts_ = wal.salts;
    if (wal.ckpt.backfilled < wal.max_frame) {
      obs.unreset_seconds = duration_cast<seconds>(now - *last_reset_).count();
    }
  }
  std::map<Key, SteadyTime> seen;
  for (size_t i = 0; i < probe.readers.size(); ++i) {
    const WalReader& r = probe.readers[i];
    Key key{r.pid, r.slot, r.read_mark};
    auto it = first_seen_.find(key);
    SteadyTime since = it == first_seen_.end() ? now : it->second;
    seen[key] = since;
    int64_t age = duration_cast<seconds>(now - since).count();
    obs.seconds.push_back(age);
    if (i == 0 || age > obs.oldest_seconds) {
      obs.oldest_seconds = age;
      obs.oldest = i;
    }
  }
  first_seen_ = std::move(seen);

  std::optional<Key> oldest;
  if (!probe.readers.empty()) {
    const WalReader& r = probe.readers[obs.oldest];
    oldest = Key{r.pid, r.slot, r.read_mark};
    obs.reported = now - first_seen_[*oldest] >= report_after;
  }
  if (obs.reported) {
    const WalReader& r = probe.readers[obs.oldest];
    const Key& key = *oldest;
    if (reported_ != key) {
      if (!reported_) reported_since_ = first_seen_[key];
      reported_ = key;
      reported_what_ = DescribeReader(r);
      obs.started = "db=" + db + " WAL pinned by " + DescribeReader(r) + " for " +
                    std::to_string(obs.oldest_seconds) + "s: slot " + std::to_string(r.slot) +
                    ", read mark " + std::to_string(r.read_mark) + " of " +
                    std::to_string(wal.max_frame) + " frames, " +
                    std::to_string(wal.ckpt.backfilled) + " checkpointed, WAL " +
                    std::to_string(wal.wal_bytes) + " bytes" +
                    (r.visible() ? std::string() : std::string("; ") + kPidNotVisibleHint);
    }
  } else if (reported_) {
    obs.cleared = "db=" + db + " WAL pin by " + reported_what_ + " cleared after " +
                  std::to_string(duration_cast<seconds>(now - reported_since_).count()) +
                  "s: no reader has held back the checkpoint that long" +
                  (obs.reset_since_last ? " (the log was reset)" : "");
    reported_.reset();
  }
  return obs;
}

}  // namespace maintd
