#include "daemon/metrics.h"

#include <algorithm>
#include <chrono>

#include "daemon/metrics_store.h"
#include "lib/jobs/registry.h"

namespace maintd {

using namespace metrics_store;

const std::array<DbFamily, kDbSeriesCount> metrics_store::kDbFamilies{{
    {"sqlite_maintd_database_size_bytes", "gauge", "Size of the main database file in bytes",
     nullptr},
    {"sqlite_maintd_free_pages", "gauge", "Pages on the freelist (PRAGMA freelist_count)",
     nullptr},
    {"sqlite_maintd_wal_size_bytes", "gauge", "Size of the -wal file in bytes", nullptr},
    {"sqlite_maintd_pages_freed_total", "counter",
     "Pages given back to the file system by vacuum (multiply by the page size for bytes)",
     "vacuum"},
    {"sqlite_maintd_rows_requeued_total", "counter", "Rows (expired leases) put back in the queue",
     "lease_requeue"},
    {"sqlite_maintd_rows_dead_total", "counter", "Rows moved to the dead value past max_attempts",
     "lease_requeue"},
    {"sqlite_maintd_rows_purged_total", "counter",
     "Rows deleted by retention (never counts backups: see backups_deleted_total)", "retention"},
    {"sqlite_maintd_rows_archived_total", "counter", "Rows copied to the archive by retention",
     "retention"},
    {"sqlite_maintd_backups_deleted_total", "counter",
     "Backup files deleted by backup rotation (keep)", "backup"},
    {"sqlite_maintd_max_lock_hold_seconds", "gauge",
     "Longest write-lock hold of one maintenance step in the last run, in seconds", "vacuum"},
    {"sqlite_maintd_wal_pin_age_seconds", "gauge",
     "Seconds the oldest reader has pinned the WAL (its read transaction keeps the checkpoint "
     "from copying back or resetting the log); 0 when none",
     "checkpoint"},
    {"sqlite_maintd_wal_frames_not_checkpointed", "gauge",
     "WAL frames (pages) not yet copied back into the database file", nullptr},
    {"sqlite_maintd_wal_unreset_seconds", "gauge",
     "Seconds since the WAL was last reset while frames waited to be checkpointed; 0 when none "
     "wait",
     "checkpoint"},
}};

namespace {

// The element of `v` whose key_of() is `key`, `v` being in the order of `less` (names, not
// ids); inserted when missing. Inserts are rare (a new task, reason or check on a
// database), so the vector is kept at its exact size.
template <typename T, typename Key, typename KeyOf, typename Less>
T& FindOrInsert(std::vector<T>& v, const Key& key, KeyOf key_of, Less less, T fresh) {
  auto it = std::lower_bound(v.begin(), v.end(), key,
                             [&](const T& e, const Key& k) { return less(key_of(e), k); });
  if (it != v.end() && key_of(*it) == key) return *it;
  size_t at = static_cast<size_t>(it - v.begin());
  v.insert(it, std::move(fresh));
  v.shrink_to_fit();
  return v[at];
}

TaskSeries& Task(Store& s, DbMetrics& m, uint16_t task) {
  TaskSeries fresh;
  fresh.task = task;
  return FindOrInsert(
      m.tasks, task, [](const TaskSeries& t) { return t.task; },
      [&](uint16_t a, uint16_t b) { return s.names.Less(a, b); }, std::move(fresh));
}

SkipCount& Skip(Store& s, DbMetrics& m, uint16_t task, uint16_t reason) {
  using Key = std::pair<uint16_t, uint16_t>;
  return FindOrInsert(
      m.skips, Key{task, reason}, [](const SkipCount& c) { return Key{c.task, c.reason}; },
      [&](const Key& a, const Key& b) {
        if (a.first != b.first) return s.names.Less(a.first, b.first);
        return s.names.Less(a.second, b.second);
      },
      SkipCount{task, reason, 0});
}

void SetCheck(Store& s, DbMetrics& m, uint16_t check, uint8_t status) {
  FindOrInsert(
      m.health, check, [](const CheckStatus& c) { return c.check; },
      [&](uint16_t a, uint16_t b) { return s.names.Less(a, b); }, CheckStatus{check, 0})
      .status = status;
}

}  // namespace

Metrics::Metrics() : store_(std::make_shared<Store>()) {}

Metrics::~Metrics() = default;

void Metrics::SetDetail(MetricsDetail detail) {
  std::lock_guard lock(store_->mu);
  store_->detail = detail;
  if (detail == MetricsDetail::kSummary) {
    for (auto& [name, m] : store_->dbs) {
      for (TaskSeries& t : m.tasks) t.duration.reset();
    }
  }
}

void Metrics::SetDatabases(const std::vector<ResolvedDatabase>& dbs) {
  std::vector<const ResolvedDatabase*> list;
  list.reserve(dbs.size());
  for (const ResolvedDatabase& db : dbs) list.push_back(&db);
  SetDatabases(list);
}

void Metrics::SetDatabases(const std::vector<std::shared_ptr<const ResolvedDatabase>>& dbs) {
  std::vector<const ResolvedDatabase*> list;
  list.reserve(dbs.size());
  for (const auto& db : dbs) list.push_back(db.get());
  SetDatabases(list);
}

void Metrics::SetDatabases(const std::vector<const ResolvedDatabase*>& dbs) {
  // Outside the lock: JobsFor builds the job objects.
  std::map<std::string, std::vector<std::string>> tasks;
  for (const ResolvedDatabase* db : dbs) {
    auto& names = tasks[db->name];
    for (const ScheduledJob& sj : JobsFor(*db)) names.push_back(sj.job->name());
  }
  Store& s = *store_;
  std::lock_guard lock(s.mu);
  for (auto it = s.dbs.begin(); it != s.dbs.end();) {
    it = tasks.count(it->first) ? std::next(it) : s.dbs.erase(it);
  }
  uint16_t busy = s.names.Id("busy");
  for (const auto& [db, names] : tasks) {
    DbMetrics& m = s.dbs[db];
    for (const std::string& name : names) {
      uint16_t task = s.names.Id(name);
      Task(s, m, task);
      Skip(s, m, task, busy);
      s.by_task.try_emplace(name);
      for (size_t i = 0; i < kDbSeriesCount; ++i) {
        const char* by = kDbFamilies[i].declared_by;
        if (by != nullptr && name == by && !m.Has(i)) m.Set(i, 0);
      }
    }
  }
}

void Metrics::Record(const ResolvedDatabase& db, const JobOutcome& out) {
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double seconds = static_cast<double>(out.duration_ms) / 1000.0;
  Store& s = *store_;
  std::lock_guard lock(s.mu);
  auto found = s.dbs.find(db.name);
  DbMetrics& m = found != s.dbs.end() ? found->second : s.dbs[db.name];
  uint16_t task_id = s.names.Id(out.job);
  TaskSeries& task = Task(s, m, task_id);
  task.runs += 1;
  Skip(s, m, task_id, s.names.Id("busy"));
  if (!out.skip_reason.empty())
    Skip(s, m, task_id, s.names.Id(out.skip_reason)).count += 1;
  else if (!out.error.ok() || out.status == HealthStatus::kCritical)
    task.failures += 1;
  if (s.detail == MetricsDetail::kFull) {
    if (!task.duration) task.duration = std::make_unique<DbHistogram>();
    task.duration->Observe(seconds);
  }
  auto by_task = s.by_task.find(out.job);
  if (by_task == s.by_task.end()) by_task = s.by_task.emplace(out.job, TaskHistogram{}).first;
  by_task->second.Observe(seconds);
  if (out.error.ok() && out.status != HealthStatus::kCritical) task.last_success = now;

  auto set = [&](DbSeries i, double v) { m.Set(i, v); };
  auto add = [&](DbSeries i, double v) { m.Set(i, (m.Has(i) ? m.values[i] : 0) + v); };
  for (const auto* rows : {&out.gate_checks, &out.report.checks}) {
    for (const CheckRow& row : *rows) {
      SetCheck(s, m, s.names.Id(row.check_type), static_cast<uint8_t>(row.status));
    }
  }
  const JobFigures& f = out.report.figures;
  if (f.db_bytes) set(kSize, double(*f.db_bytes));
  if (f.freelist_count) set(kFreePages, double(*f.freelist_count));
  if (f.wal_bytes) set(kWal, double(*f.wal_bytes));
  if (f.max_lock_hold_ms) set(kLockHold, *f.max_lock_hold_ms / 1000.0);
  if (f.wal_pin_age_seconds) set(kWalPinAge, double(*f.wal_pin_age_seconds));
  if (f.wal_frames_not_checkpointed) set(kWalNotCheckpointed, double(*f.wal_frames_not_checkpointed));
  if (f.wal_unreset_seconds) set(kWalUnreset, double(*f.wal_unreset_seconds));
  if (f.pages_freed > 0) add(kPagesFreed, double(f.pages_freed));
  if (f.rows_requeued > 0) add(kRequeued, double(f.rows_requeued));
  if (f.rows_dead > 0) add(kDead, double(f.rows_dead));
  if (f.rows_purged > 0) add(kPurged, double(f.rows_purged));
  if (f.rows_archived > 0) add(kArchived, double(f.rows_archived));
  if (f.backups_deleted > 0) add(kBackupsDeleted, double(f.backups_deleted));
}

void Metrics::SetTaskRunning(const std::string& db, const std::string& task, bool running) {
  Store& s = *store_;
  std::lock_guard lock(s.mu);
  auto it = s.dbs.find(db);
  if (it == s.dbs.end()) return;  // dropped meanwhile: no stale series
  Task(s, it->second, s.names.Id(task)).running = running;
}

void Metrics::SetDatabasesMaintained(size_t count) {
  std::lock_guard lock(store_->mu);
  store_->databases = static_cast<double>(count);
}

void Metrics::SetReady(bool ready) {
  std::lock_guard lock(store_->mu);
  store_->ready = ready ? 1 : 0;
}

std::string Metrics::Exposition() const {
  std::string out;
  auto cursor = StartExposition();
  while (cursor->Next(out, std::string::npos)) {
  }
  return out;
}

}  // namespace maintd
