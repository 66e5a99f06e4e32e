#pragma once
// How the daemon asks glibc's allocator to hand memory back (docs/performance.md, "Memory
// at 10,000 databases"). Both are no-ops on other C libraries. Thread-safe.

namespace maintd {

// Large buffers stay mmapped, so they go back to the system as soon as they are freed. Call
// once at the start.
void KeepLargeBuffersMmapped();

// Gives every free page of every arena back to the system. Blocking (25-50 ms for a 100 MB
// heap at worst): call it off the event loop.
void ReleaseFreeMemory();

}  // namespace maintd
