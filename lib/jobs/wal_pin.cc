#include "lib/jobs/wal_pin.h"

#include <spdlog/spdlog.h>

namespace maintd {

Result<WalPinView> ObserveWalPins(JobContext& ctx, const PinProbeOptions& options) {
  WalPinView view;
  auto probe = ProbeWalPins(ctx.conn(), options);
  if (!probe.ok()) return probe.status();
  view.probe = std::move(probe).value();
  const Millis report_after = ctx.db.policy.health.wal_pin_warning;
  if (ctx.wal_pins != nullptr) {
    view.seen = ctx.wal_pins->Observe(view.probe, ctx.clock.SteadyNow(), report_after, ctx.db.name);
    if (!view.seen.started.empty()) spdlog::warn("{}", view.seen.started);
    if (!view.seen.cleared.empty()) spdlog::info("{}", view.seen.cleared);
  } else {
    // Nothing remembered: every reader is seen now.
    WalPinTracker once;
    view.seen = once.Observe(view.probe, ctx.clock.SteadyNow(), report_after, ctx.db.name);
    view.seen.started.clear();
  }
  return view;
}

nlohmann::json ReaderJson(const WalReader& r, int64_t seconds) {
  nlohmann::json j = {{"pid", r.pid > 0 ? nlohmann::json(r.pid) : nlohmann::json()},
                      {"command", r.command},
                      {"slot", r.slot},
                      {"read_mark", r.read_mark},
                      {"seconds", seconds},
                      {"blocks", r.blocks_reset ? "backfill past read_mark, reset" : "backfill"}};
  if (!r.visible()) {
    j["pid_visible"] = false;
    j["hint"] = kPidNotVisibleHint;
  }
  return j;
}

nlohmann::json WalFigures(const WalPinView& view) {
  const WalIndexSnapshot& wal = view.probe.wal;
  if (wal.state != WalIndexState::kRead) {
    return {{"shared_memory", false}, {"note", wal.reason}, {"wal_bytes", wal.wal_bytes}};
  }
  nlohmann::json readers = nlohmann::json::array();
  for (size_t i = 0; i < view.probe.readers.size(); ++i) {
    readers.push_back(ReaderJson(view.probe.readers[i], view.seen.seconds[i]));
  }
  return {{"wal_bytes", wal.wal_bytes},
          {"frames", wal.max_frame},
          {"frames_backfilled", wal.ckpt.backfilled},
          {"frames_not_checkpointed", wal.max_frame - std::min(wal.max_frame, wal.ckpt.backfilled)},
          {"unreset_seconds", view.seen.unreset_seconds},
          {"log_reset_possible", !ResetBlocked(wal)},
          {"readers", readers}};
}

CheckRow WalPinCheck(const WalPinView& view, const HealthPolicy& health) {
  CheckRow row{"wal_pin", HealthStatus::kHealthy, WalFigures(view)};
  auto& d = row.details;
  d["wal_pin_warning"] = FormatDuration(health.wal_pin_warning);
  d["wal_pin_critical"] = FormatDuration(health.wal_pin_critical);
  if (view.probe.readers.empty()) return row;
  const WalReader& r = view.probe.readers[view.seen.oldest];
  const int64_t seconds = view.seen.oldest_seconds;
  d["pid"] = r.pid > 0 ? nlohmann::json(r.pid) : nlohmann::json();
  d["command"] = r.command;
  d["seconds"] = seconds;
  d["read_mark"] = r.read_mark;
  d["slot"] = r.slot;
  if (!view.seen.reported) return row;
  const int64_t wal_bytes = view.probe.wal.wal_bytes;
  const bool big = health.wal_warning > 0 && wal_bytes > health.wal_warning;
  const bool long_pin = std::chrono::seconds(seconds) >= health.wal_pin_critical;
  row.status = long_pin || big ? HealthStatus::kCritical : HealthStatus::kWarning;
  d["note"] = "WAL pinned " + std::to_string(seconds) + "s by " + DescribeReader(r) +
              ": its read transaction keeps the checkpoint from " +
              (r.slot == 0 ? std::string("copying frames back")
                           : "copying back past frame " + std::to_string(r.read_mark) +
                                 " and from resetting the log") +
              (big ? "; the WAL is above health.wal_warning" : "");
  if (!r.visible()) d["hint"] = kPidNotVisibleHint;
  return row;
}

void SetWalFigures(JobFigures& figures, const WalPinView& view) {
  const WalIndexSnapshot& wal = view.probe.wal;
  if (wal.state != WalIndexState::kRead) return;
  figures.wal_pin_age_seconds = view.probe.readers.empty() ? 0 : view.seen.oldest_seconds;
  figures.wal_frames_not_checkpointed =
      int64_t{wal.max_frame} - std::min<int64_t>(wal.max_frame, wal.ckpt.backfilled);
  figures.wal_unreset_seconds = view.seen.unreset_seconds;
}

}  // namespace maintd
