#pragma once
// Stop checks and pauses for batch jobs: a job stops at its next batch when the stop token
// is set or its deadline has passed, and a pause between batches ends early on a stop.

#include <algorithm>
#include <chrono>
#include <thread>

#include "lib/jobs/job.h"

namespace maintd {

inline bool ShouldStop(const JobContext& ctx) {
  return ctx.stop.stop_requested() ||
         (ctx.deadline.has_value() && std::chrono::steady_clock::now() >= *ctx.deadline);
}

// Sleeps `d` in slices of at most 10 ms; returns false when it ended early on a stop.
inline bool PauseUnlessStopped(const JobContext& ctx, std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (true) {
    if (ShouldStop(ctx)) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= end) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(end - now, std::chrono::milliseconds(10)));
  }
}

}  // namespace maintd
