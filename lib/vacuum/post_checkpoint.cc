#include "lib/vacuum/post_checkpoint.h"

#include "lib/jobs/checkpoint.h"

namespace maintd {
namespace {

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

Result<WalCheckpointResult> CheckpointAfterVacuum(Connection& conn, Millis wait) {
  // PASSIVE first: it copies the frames back without blocking anyone. TRUNCATE takes the
  // write lock before copying, so it only gets the little that is left.
  auto passive = PassiveCheckpoint(conn);
  if (!passive.ok() || wait.count() <= 0 || passive->log_frames < 0) return passive;
  auto truncate = Convert(RunCheckpoint(conn, CheckpointMode::kTruncate, wait));
  if (!truncate.ok()) return passive;  // PASSIVE already did the essential part
  // The file shrank if either call copied every frame back.
  truncate->busy = truncate->busy && passive->checkpointed < passive->log_frames;
  return truncate;
}

}  // namespace maintd
