#pragma once
// The compact store behind daemon/metrics.h (internal to daemon/metrics*.cc). Sized for
// ten thousand databases: a database costs about 1 KiB here (docs/performance.md, "Where the
// memory went"), so per-series strings are never stored. Task names, skip reasons and check
// names are interned once (`Names`) and series refer to them by a 16-bit id; the db label is
// the key of `Store::dbs`, once per database.
//
// Threads: nothing here locks. Every member of `Store` is guarded by `Store::mu`, which
// daemon/metrics.cc and the exposition cursor (daemon/metrics_exposition.cc) hold.

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/config/config.h"

namespace maintd::metrics_store {

// Upper bounds of the duration histogram's buckets, in seconds (+Inf is implicit).
constexpr std::array<double, 11> kBuckets{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300};

// Observations per bucket, not cumulative (the last one is +Inf), and their sum. A database's
// histograms count in 32 bits (4 billion runs of one job on one database: a run a second for
// 136 years); the per-task sums over all databases in 64.
template <typename Counter>
struct Histogram {
  std::array<Counter, kBuckets.size() + 1> in_bucket{};
  double sum = 0;

  void Observe(double seconds) {
    size_t i = 0;
    while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
    ++in_bucket[i];
    sum += seconds;
  }
};
using DbHistogram = Histogram<uint32_t>;
using TaskHistogram = Histogram<uint64_t>;

// A few dozen distinct strings at most (jobs, skip reasons, health checks), kept once.
class Names {
 public:
  uint16_t Id(std::string_view name) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return static_cast<uint16_t>(i);
    }
    names_.emplace_back(name);
    return static_cast<uint16_t>(names_.size() - 1);
  }
  const std::string& operator[](uint16_t id) const { return names_[id]; }
  bool Less(uint16_t a, uint16_t b) const { return names_[a] < names_[b]; }

 private:
  std::vector<std::string> names_;
};

// Per-database series that come from job reports, in exposition order.
enum DbSeries : size_t {
  kSize,
  kFreePages,
  kWal,
  kPagesFreed,
  kRequeued,
  kDead,
  kPurged,
  kArchived,
  kBackupsDeleted,
  kLockHold,
  kWalPinAge,
  kWalNotCheckpointed,
  kWalUnreset,
  kDbSeriesCount
};

struct DbFamily {
  const char* name;
  const char* type;
  const char* help;
  const char* declared_by;  // the task whose declaration creates the series at 0, or null
};
extern const std::array<DbFamily, kDbSeriesCount> kDbFamilies;

constexpr double kNever = std::numeric_limits<double>::quiet_NaN();

struct TaskSeries {
  uint16_t task = 0;  // id in Store::names
  bool running = false;
  double runs = 0;
  double failures = 0;
  double last_success = kNever;           // Unix seconds; NaN: no success yet
  std::unique_ptr<DbHistogram> duration;  // null until the first run (and in summary detail)
};

struct SkipCount {
  uint16_t task = 0;
  uint16_t reason = 0;
  double count = 0;
};

struct CheckStatus {
  uint16_t check = 0;
  uint8_t status = 0;  // 0 healthy, 1 warning, 2 critical
};

struct DbMetrics {
  std::vector<TaskSeries> tasks;    // in task name order
  std::vector<SkipCount> skips;     // in task name, then reason order
  std::vector<CheckStatus> health;  // in check name order
  uint16_t present = 0;             // bit s: values[s] is set
  std::array<double, kDbSeriesCount> values{};

  bool Has(size_t s) const { return (present >> s) & 1u; }
  void Set(size_t s, double v) {
    values[s] = v;
    present = static_cast<uint16_t>(present | (1u << s));
  }
};
static_assert(kDbSeriesCount <= 16, "DbMetrics::present holds one bit per series");

struct Store {
  mutable std::mutex mu;
  MetricsDetail detail = MetricsDetail::kFull;           // under mu
  Names names;                                           // under mu
  std::map<std::string, DbMetrics, std::less<>> dbs;     // by db name, under mu
  std::map<std::string, TaskHistogram, std::less<>> by_task;  // all databases, under mu
  std::optional<double> databases;                       // under mu
  std::optional<double> ready;                           // under mu
};

}  // namespace maintd::metrics_store
