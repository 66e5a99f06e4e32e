#include "daemon/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "daemon/metrics_text.h"

namespace maintd {
namespace {

using metrics_text::AppendHeader;
using metrics_text::AppendPlain;

// The fields of /proc/self/stat after the command name (which may hold spaces and
// parentheses, hence the last ')'): index 0 is field 3 (state) of proc(5).
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

// Boot time (seconds since the epoch), from the btime line of /proc/stat; 0 if unknown.
double BootTime() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

// Entries of /proc/self/fd, less the one opendir itself holds; -1 if unreadable.
long OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  long count = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;
}

}  // namespace

void AppendProcessMetrics(std::string& out) {
  static const double kTicks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double kPageSize = static_cast<double>(sysconf(_SC_PAGESIZE));
  static const double kBootTime = BootTime();
  std::vector<std::string> f = StatFields();
  // proc(5) field numbers: utime 14, stime 15, starttime 22, vsize 23, rss 24.
  auto field = [&](size_t number) { return std::stod(f.at(number - 3)); };
  if (f.size() >= 22 && kTicks > 0) {
    AppendHeader(out, "process_cpu_seconds_total", "counter",
                 "Total user and system CPU time spent in seconds.");
    AppendPlain(out, "process_cpu_seconds_total", (field(14) + field(15)) / kTicks);
    if (kBootTime > 0) {
      AppendHeader(out, "process_start_time_seconds", "gauge",
                   "Start time of the process since unix epoch in seconds.");
      AppendPlain(out, "process_start_time_seconds", kBootTime + field(22) / kTicks);
    }
    AppendHeader(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    AppendPlain(out, "process_virtual_memory_bytes", field(23));
    AppendHeader(out, "process_resident_memory_bytes", "gauge",
                 "Resident memory size in bytes.");
    AppendPlain(out, "process_resident_memory_bytes", field(24) * kPageSize);
  }
  long fds = OpenFds();
  if (fds >= 0) {
    AppendHeader(out, "process_open_fds", "gauge", "Number of open file descriptors.");
    AppendPlain(out, "process_open_fds", static_cast<double>(fds));
  }
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    AppendHeader(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    AppendPlain(out, "process_max_fds",
                rl.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(rl.rlim_cur));
  }
}

}  // namespace maintd
