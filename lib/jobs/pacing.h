#pragma once
// Stop checks and pauses for batch jobs: a job stops at its next batch when the stop token
// is set or its deadline has passed, and a pause between batches ends at once on a stop.
// Both are the shared ones of lib/sqlite/pause.h on the job's clock, stop token and deadline.

#include "lib/jobs/job.h"
#include "lib/sqlite/pause.h"

namespace maintd {

inline bool ShouldStop(const JobContext& ctx) {
  return ShouldStop(ctx.stop, ctx.clock, ctx.deadline);
}

// Pauses `d` on ctx.clock; returns false when it ended early on a stop or the deadline.
inline bool PauseUnlessStopped(const JobContext& ctx, Millis d) {
  return PauseUnlessStopped(ctx.stop, ctx.clock, d, ctx.deadline);
}

}  // namespace maintd
