#pragma once
// The one stop-aware pause, shared by every loop that waits between steps (retention and
// requeue batches, incremental vacuum steps, the vacuum's checkpoint retries, the backup's
// busy retries). It runs on the injected Clock, so a FakeClock pause takes no real time, and
// RequestStop()/Abort() on the token end it at once.

#include <optional>

#include "lib/core/clock.h"
#include "lib/sqlite/stop_token.h"

namespace maintd {

// True when a stop is requested or `deadline` (on `clock`'s steady time) has passed.
bool ShouldStop(const StopToken& stop, const Clock& clock, std::optional<SteadyTime> deadline);

// Pauses `d` on `clock`. Returns true after the whole pause with no stop requested and the
// deadline not reached; false as soon as a stop is requested (at once) or at the deadline.
bool PauseUnlessStopped(StopToken& stop, const Clock& clock, Millis d,
                        std::optional<SteadyTime> deadline = std::nullopt);

}  // namespace maintd
