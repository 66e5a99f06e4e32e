#pragma once
// How the daemon asks glibc's allocator to hand memory back (docs/performance.md, "Memory
// at 10,000 databases"). Both are no-ops on other C libraries. Thread-safe.

#include <atomic>
#include <cstddef>

namespace maintd {

// Large buffers stay mmapped, so they go back to the system as soon as they are freed. Call
// once at the start.
void KeepLargeBuffersMmapped();

// Gives every free page of every arena back to the system. Blocking (25-50 ms for a 100 MB
// heap at worst): call it off the event loop.
void ReleaseFreeMemory();

// When a burst of job runs is over, so that what it freed goes back at once rather than at
// the next rescan's ReleaseFreeMemory (a minute later): the first runs after the start touch
// every database, and their garbage (connections, statements, journal reads) otherwise
// stays resident. A burst is at least `databases` runs since the last release (a whole
// pass; the steady state of 10,000 idle tenants is ~3,000 cheap skips a minute, which the
// rescan's release resets first), ended when nothing is due. Thread-safe.
class ReleaseAfterBurst {
 public:
  // A job run finished. True when the caller should call ReleaseFreeMemory() now (off the
  // event loop): `runs since the last release >= databases` and `nothing_due`.
  bool RunFinished(size_t databases, bool nothing_due);
  // Memory was released (the rescan's): counting starts again.
  void Released() { runs_.store(0); }

 private:
  std::atomic<size_t> runs_{0};
};

}  // namespace maintd
