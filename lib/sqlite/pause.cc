#include "lib/sqlite/pause.h"

namespace maintd {

bool ShouldStop(const StopToken& stop, const Clock& clock, std::optional<SteadyTime> deadline) {
  return stop.stop_requested() || (deadline.has_value() && clock.SteadyNow() >= *deadline);
}

bool PauseUnlessStopped(StopToken& stop, const Clock& clock, Millis d,
                        std::optional<SteadyTime> deadline) {
  if (ShouldStop(stop, clock, deadline)) return false;
  SteadyTime until = clock.SteadyNow() + d;
  if (deadline.has_value() && *deadline < until) until = *deadline;
  if (!clock.SleepUntil(until, &stop)) return false;
  return !ShouldStop(stop, clock, deadline);
}

}  // namespace maintd
