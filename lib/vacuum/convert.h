#pragma once
// Whether a full VACUUM switches an auto_vacuum=NONE database to INCREMENTAL now
// (vacuum.convert_auto_vacuum: auto | true | false, CONTRACT.md section 3). One rule for the
// vacuum job, the shutdown vacuum, the `vacuum` command and the health job's fragmentation
// check, so they never disagree.
//
// The rule, in order (the first that applies decides):
//   1. false                                  -> kDisabled (never converts);
//   2. auto, and the trigger does not fire    -> kBelowTrigger: nothing worth reclaiming
//      (free ratio < trigger_free_ratio, or freelist < min_free_pages). Not asked by the
//      command (an explicit request) nor by `true` (a one-time conversion whatever the ratio);
//   3. the full-VACUUM rules refuse it        -> kRefused (Litestream, free disk: full.h);
//   4. auto, and the predicted full VACUUM holds the write lock longer than
//      max_full_vacuum_stall                  -> kTooSlow. The prediction is predict.h's:
//      live bytes ((page_count - freelist_count) x page_size) at the slowest recent measured
//      rate, or the conservative default rate, with its margin;
//   5. convert_at is set and `now` is outside its window -> kWaitForWindow (scheduled and
//      shutdown runs only; the command ignores it). The window opens at convert_at and lasts
//      max(1h, check_every), at most 24h: the vacuum checks that fall in it may convert;
//   6. otherwise                              -> kConvert.
// Pure: the caller reads the stats, the prediction and the rules' Status.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/core/status.h"
#include "lib/inspect/db_stats.h"
#include "lib/vacuum/predict.h"

namespace maintd {

enum class ConvertVerdict { kConvert, kWaitForWindow, kBelowTrigger, kRefused, kTooSlow, kDisabled };
const char* ToString(ConvertVerdict v);  // "convert", "wait_for_window", "below_trigger", ...

// The vacuum trigger: free ratio >= trigger_free_ratio and freelist >= min_free_pages.
bool VacuumTriggered(const VacuumPolicy& policy, const DbStats& stats);

// How long the convert_at window stays open: max(1h, check_every), at most 24h.
Millis ConvertWindowLength(const VacuumPolicy& policy);
// True when convert_at is unset or `now` lies in [convert_at, convert_at + window).
bool InConvertWindow(const VacuumPolicy& policy, SystemTime now);

struct ConvertRequest {
  bool require_trigger = true;  // rule 2 (auto only)
  bool honour_window = true;    // rule 5
};

struct ConvertDecision {
  ConvertVerdict verdict = ConvertVerdict::kDisabled;
  int64_t live_bytes = 0;
  FullVacuumPrediction prediction;
  Millis max_stall{0};
  // Why, in one sentence without the database's name, e.g. "converting it takes one full
  // VACUUM, predicted to hold the write lock 3250 ms (48.0MiB live at 16.0MiB/s, default
  // rate), above max_full_vacuum_stall 500ms".
  std::string reason;

  bool convert_now() const { return verdict == ConvertVerdict::kConvert; }
  // The vacuum job converts it, now or in the convert_at window.
  bool will_convert() const {
    return verdict == ConvertVerdict::kConvert || verdict == ConvertVerdict::kWaitForWindow;
  }
  // {"conversion": verdict, "predicted_stall_ms", "max_full_vacuum_stall_ms", "live_bytes",
  //  "prediction_source", "prediction_samples"} for check rows.
  nlohmann::json Details() const;
};

// `rules`: CheckFullVacuumAllowed's Status for this database (full.h). Meaningful only for an
// auto_vacuum=NONE database.
ConvertDecision DecideConversion(const VacuumPolicy& policy, const DbStats& stats,
                                 const FullVacuumPrediction& prediction, const Status& rules,
                                 SystemTime now, ConvertRequest request = {});

// (page_count - freelist_count) x page_size.
int64_t LiveBytes(const DbStats& stats);

// How an operator converts `db_path` by hand, for messages: the command (which converts
// unless convert_auto_vacuum is false) and the config key.
std::string ConvertByHandHint(const std::string& db_path, const VacuumPolicy& policy);

}  // namespace maintd
