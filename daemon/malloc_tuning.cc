#include "daemon/malloc_tuning.h"

#include <malloc.h>

#include <algorithm>

namespace maintd {

// Some buffers are large for a moment (the resolved list of 10,000 databases is ~4 MB; the
// /metrics text was 100 MB before it was streamed). glibc raises its mmap threshold to the
// size of the largest mmapped block freed so far, after which such buffers come from the
// heap and stay in the RSS once freed. A fixed threshold keeps large buffers mmapped: they
// go back to the system as soon as they are freed.
void KeepLargeBuffersMmapped() {
#ifdef __GLIBC__
  (void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
}

// glibc keeps what the program frees in its arenas (the main heap, and one arena per thread
// that allocated: the take-over threads, the workers) and gives back to the system only
// what lies at the top of the main heap: free but resident pages scattered through the
// heaps (2.3 MiB of 21 after the first runs of 1,000 databases). malloc_trim(0) returns
// every free page, wherever it lies (madvise): 25-50 ms for a 100 MB heap three quarters
// free in small blocks (a synthetic worst case). Called on the control thread at the
// start, after each reload, and at each rescan (glob_rescan_every, 1 min by default), so
// what the job runs freed goes back within a minute: docs/performance.md, "Memory at
// 10,000 databases".
void ReleaseFreeMemory() {
#ifdef __GLIBC__
  (void)malloc_trim(0);
#endif
}

bool ReleaseAfterBurst::RunFinished(size_t databases, bool nothing_due) {
  size_t runs = runs_.fetch_add(1) + 1;
  if (runs < std::max<size_t>(databases, 1) || !nothing_due) return false;
  runs_.store(0);
  return true;
}

}  // namespace maintd
