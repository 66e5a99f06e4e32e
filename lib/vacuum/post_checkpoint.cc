#include "lib/vacuum/post_checkpoint.h"

#include <spdlog/spdlog.h>

#include "lib/sqlite/pause.h"
#include "lib/wal/checkpoint.h"

namespace maintd {
namespace {

constexpr int kPassiveRetries = 25;  // up to ~0.5 s: costs writers nothing
constexpr Millis kPassiveRetryPause{20};

Result<WalCheckpointResult> Convert(const Result<CheckpointResult>& r) {
  if (!r.ok()) return r.status();
  WalCheckpointResult out;
  out.busy = r->busy;
  out.log_frames = r->log_frames;
  out.checkpointed = r->checkpointed_frames;
  return out;
}

}  // namespace

Result<WalCheckpointResult> PassiveCheckpoint(Connection& conn) {
  return Convert(RunCheckpoint(conn, CheckpointMode::kPassive, Millis(0)));
}

Result<WalCheckpointResult> CheckpointAfterVacuum(Connection& conn, Millis wait, StopToken& stop,
                                                  const Clock& clock,
                                                  std::optional<SteadyTime> deadline) {
  // PASSIVE first: it copies the frames back without blocking anyone. TRUNCATE takes the
  // write lock before copying, so it only gets the little that is left.
  auto passive = PassiveCheckpoint(conn);
  // An application's autocheckpoint may be running (PASSIVE then returns busy at once) or
  // have started before the vacuum's last commit: retry briefly so the file shrinks now.
  auto incomplete = [](const WalCheckpointResult& r) {
    return r.busy || (r.log_frames >= 0 && r.checkpointed < r.log_frames);
  };
  for (int i = 0; i < kPassiveRetries && passive.ok() && incomplete(*passive); ++i) {
    if (!PauseUnlessStopped(stop, clock, kPassiveRetryPause, deadline)) break;
    passive = PassiveCheckpoint(conn);
  }
  if (passive.ok()) {
    spdlog::trace("vacuum final checkpoint: passive {}/{} frames{}", passive->checkpointed,
                  passive->log_frames, passive->busy ? " (busy)" : "");
  }
  if (!passive.ok() || wait.count() <= 0) return passive;
  if (!passive->busy && passive->log_frames < 0) return passive;  // not in WAL mode
  auto truncate = Convert(RunCheckpoint(conn, CheckpointMode::kTruncate, wait));
  if (!truncate.ok()) return passive;  // PASSIVE already did the essential part
  spdlog::trace("vacuum final checkpoint: truncate {}/{} frames{}", truncate->checkpointed,
                truncate->log_frames, truncate->busy ? " (busy)" : "");
  // The file shrank if either call copied every frame back.
  truncate->busy = truncate->busy && incomplete(*passive);
  return truncate;
}

}  // namespace maintd
