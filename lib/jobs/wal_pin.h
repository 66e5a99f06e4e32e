#pragma once
// The `wal_pin` check (CONTRACT.md sections 4 and 7) and the WAL figures the checkpoint and
// health jobs share: who pins the WAL (lib/wal/pin.h, the blame rule), for how long (the
// maintainer's WalPinTracker), and what it costs (frames not checkpointed, time unreset).

#include <nlohmann/json.hpp>

#include "lib/config/config.h"
#include "lib/jobs/job.h"
#include "lib/wal/pin.h"
#include "lib/wal/pin_tracker.h"

namespace maintd {

struct WalPinView {
  WalPinProbe probe;
  PinObservation seen;  // ages and log lines from ctx.wal_pins (or "seen now")
};

// Probes `ctx.conn()` (no transaction open) and records it in ctx.wal_pins; writes the
// tracker's "pinned" / "cleared" log lines (once per pin). `options` is for tests.
Result<WalPinView> ObserveWalPins(JobContext& ctx, const PinProbeOptions& options = {});

// The `wal_pin` row (WAL databases only; see the blame rule in lib/wal/pin.h):
//   healthy   no reader has pinned the WAL for health.wal_pin_warning;
//   warning   the oldest blamed reader has, while the WAL grew past its read mark;
//   critical  it has for health.wal_pin_critical, or the WAL file is above
//             health.wal_warning while so pinned.
// details: wal figures (WalFigures), readers [{pid, command, slot, read_mark, seconds}],
// and the oldest one's pid, command, seconds, read_mark, slot.
CheckRow WalPinCheck(const WalPinView& view, const HealthPolicy& health);

// {wal_bytes, frames, frames_backfilled, frames_not_checkpointed, unreset_seconds,
//  log_reset_possible, readers: [...]} or {shared_memory: false, note} without a -shm.
nlohmann::json WalFigures(const WalPinView& view);
nlohmann::json ReaderJson(const WalReader& r, int64_t seconds);

// Sets the report's WAL gauges (JobFigures) from the view.
void SetWalFigures(JobFigures& figures, const WalPinView& view);

}  // namespace maintd
