// When the daemon gives freed memory back after a burst of runs (daemon/malloc_tuning.h).

#include "daemon/malloc_tuning.h"

#include <gtest/gtest.h>

namespace maintd {
namespace {

// The first pass over 3 databases is 9 runs (3 jobs each): the release comes once at least
// a run per database happened and nothing is due any more, not while the pass goes on.
TEST(ReleaseAfterBurst, ReleasesOnceAWholePassIsOverNotDuringIt) {
  ReleaseAfterBurst burst;
  EXPECT_FALSE(burst.RunFinished(3, /*nothing_due=*/true)) << "one run is no burst";
  EXPECT_FALSE(burst.RunFinished(3, false));
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(burst.RunFinished(3, false)) << "still due: " << i;
  EXPECT_TRUE(burst.RunFinished(3, true)) << "the pass is over";
  // Counting starts again: the next single run is no burst.
  EXPECT_FALSE(burst.RunFinished(3, true));
}

// The steady state: the rescan releases every minute and resets the count, so a trickle of
// runs that never adds up to a pass between two rescans never releases on its own.
TEST(ReleaseAfterBurst, TheRescansReleaseResetsTheCount) {
  ReleaseAfterBurst burst;
  for (int minute = 0; minute < 5; ++minute) {
    EXPECT_FALSE(burst.RunFinished(3, true));
    EXPECT_FALSE(burst.RunFinished(3, true));
    burst.Released();
  }
  // No databases (all dropped): a run still counts as a pass of one.
  EXPECT_TRUE(burst.RunFinished(0, true));
}

}  // namespace
}  // namespace maintd
