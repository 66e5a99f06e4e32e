#pragma once
// The standard process_* series of Prometheus client libraries, read from /proc/self:
// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds. Linux only; a series whose
// source cannot be read is left out. Thread-safe (no state); reads a few small /proc files
// and lists /proc/self/fd, so it costs well under a millisecond with a thousand open files.

#include <string>

namespace maintd {

void AppendProcessMetrics(std::string& out);

}  // namespace maintd
