#include "lib/vacuum/convert.h"

#include <algorithm>
#include <cstdio>

#include "lib/core/units.h"

namespace maintd {
namespace {

constexpr Millis kMinWindow = std::chrono::hours(1);
constexpr Millis kMaxWindow = std::chrono::hours(24);

std::string Mib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return buf;
}

std::string PredictionText(const ConvertDecision& d) {
  std::string source = d.prediction.source == "default"
                           ? "the conservative default rate: no full VACUUM measured yet"
                           : "the slowest of the last " + std::to_string(d.prediction.samples) +
                                 " measured full VACUUMs";
  return "predicted to hold the write lock " + std::to_string(d.prediction.duration.count()) +
         " ms (" + Mib(static_cast<double>(d.live_bytes)) + " of live data at " +
         Mib(d.prediction.bytes_per_second) + "/s, " + source + ")";
}

}  // namespace

const char* ToString(ConvertVerdict v) {
  switch (v) {
    case ConvertVerdict::kConvert: return "convert";
    case ConvertVerdict::kWaitForWindow: return "wait_for_window";
    case ConvertVerdict::kBelowTrigger: return "below_trigger";
    case ConvertVerdict::kRefused: return "refused";
    case ConvertVerdict::kTooSlow: return "stall_too_long";
    case ConvertVerdict::kDisabled: return "disabled";
  }
  return "?";
}

bool VacuumTriggered(const VacuumPolicy& p, const DbStats& s) {
  return s.page_count > 0 && s.free_ratio() >= p.trigger_free_ratio &&
         s.freelist_count >= p.min_free_pages;
}

int64_t LiveBytes(const DbStats& s) {
  return std::max<int64_t>(0, s.page_count - s.freelist_count) * s.page_size;
}

Millis ConvertWindowLength(const VacuumPolicy& p) {
  return std::clamp(p.check_every, kMinWindow, kMaxWindow);
}

bool InConvertWindow(const VacuumPolicy& p, SystemTime now) {
  if (!p.convert_at) return true;
  SystemTime opened = PreviousTimeOfDay(*p.convert_at, now);
  return now - opened < ConvertWindowLength(p);
}

nlohmann::json ConvertDecision::Details() const {
  return {{"conversion", ToString(verdict)},
          {"predicted_stall_ms", prediction.duration.count()},
          {"max_full_vacuum_stall_ms", max_stall.count()},
          {"live_bytes", live_bytes},
          {"prediction_source", prediction.source},
          {"prediction_samples", prediction.samples}};
}

ConvertDecision DecideConversion(const VacuumPolicy& p, const DbStats& s,
                                 const FullVacuumPrediction& prediction, const Status& rules,
                                 SystemTime now, ConvertRequest request) {
  ConvertDecision d;
  d.live_bytes = LiveBytes(s);
  d.prediction = prediction;
  d.max_stall = p.max_full_vacuum_stall;
  const bool is_auto = p.convert_auto_vacuum == ConvertAutoVacuum::kAuto;
  if (p.convert_auto_vacuum == ConvertAutoVacuum::kFalse) {
    d.verdict = ConvertVerdict::kDisabled;
    d.reason = "convert_auto_vacuum is false: no full VACUUM converts it";
  } else if (is_auto && request.require_trigger && !VacuumTriggered(p, s)) {
    d.verdict = ConvertVerdict::kBelowTrigger;
    d.reason = "nothing worth reclaiming yet (below trigger_free_ratio or min_free_pages)";
  } else if (!rules.ok()) {
    d.verdict = ConvertVerdict::kRefused;
    d.reason = rules.message();
  } else if (is_auto && prediction.duration > p.max_full_vacuum_stall) {
    d.verdict = ConvertVerdict::kTooSlow;
    d.reason = "converting it takes one full VACUUM, " + PredictionText(d) +
               ", above max_full_vacuum_stall " + FormatDuration(p.max_full_vacuum_stall);
  } else if (request.honour_window && !InConvertWindow(p, now)) {
    d.verdict = ConvertVerdict::kWaitForWindow;
    d.reason = "the conversion (one full VACUUM, " + PredictionText(d) +
               ") waits for convert_at " + FormatTimeOfDay(*p.convert_at) + " (window " +
               FormatDuration(ConvertWindowLength(p)) + ")";
  } else {
    d.verdict = ConvertVerdict::kConvert;
    d.reason = "one full VACUUM converts it, " + PredictionText(d);
  }
  return d;
}

std::string ConvertByHandHint(const std::string& db_path, const VacuumPolicy& p) {
  std::string command = "`sqlite-maintd vacuum --full " + db_path + "`";
  if (p.convert_auto_vacuum == ConvertAutoVacuum::kFalse) {
    return "to convert it, set vacuum.convert_auto_vacuum: true (or auto), or run " + command +
           " with convert_auto_vacuum not false, at a quiet time (writers wait while it runs)";
  }
  return "to convert it by hand at a quiet time (writers wait while it runs): " + command +
         ", or set vacuum.convert_auto_vacuum: true (converts at the next check, with "
         "convert_at for a quiet hour)";
}

}  // namespace maintd
