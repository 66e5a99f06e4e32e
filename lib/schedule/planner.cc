#include "lib/schedule/planner.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>

namespace maintd {

namespace {

using std::chrono::duration_cast;

constexpr Millis kDailyInterval = std::chrono::hours(24);
constexpr Millis kMaxRerunDelay = std::chrono::seconds(1);
// A backwards step of the wall clock smaller than this is ignored (NTP slews, rounding).
constexpr Millis kClockStepTolerance = std::chrono::seconds(1);

bool SameSchedule(const Schedule& a, const Schedule& b) {
  return a.every == b.every && a.daily_at == b.daily_at;
}

Millis IntervalOf(const Schedule& s) { return s.daily_at ? kDailyInterval : s.every; }

// FNV-1a followed by the splitmix64 finalizer: stable across runs and platforms.
uint64_t HashKey(const std::string& db, const std::string& entry_id) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  for (char c : db) mix(static_cast<unsigned char>(c));
  mix(0);
  for (char c : entry_id) mix(static_cast<unsigned char>(c));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

// The one spelling of an entry id: "name" for the first job of a name, "name#k" after.
std::string EntryId(std::string name, uint32_t ordinal) {
  return ordinal <= 1 ? name : name + "#" + std::to_string(ordinal);
}

// The ordinal of each job in JobsFor order: k for the k-th job of its name.
std::vector<uint32_t> Ordinals(const std::vector<ScheduledJob>& jobs) {
  std::vector<uint32_t> ordinals;
  ordinals.reserve(jobs.size());
  std::unordered_map<std::string, uint32_t> seen;
  for (const ScheduledJob& j : jobs) ordinals.push_back(++seen[j.job ? j.job->name() : ""]);
  return ordinals;
}

}  // namespace

std::vector<std::string> EntryIds(const std::vector<ScheduledJob>& jobs) {
  std::vector<std::string> ids;
  std::vector<uint32_t> ordinals = Ordinals(jobs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    ids.push_back(EntryId(jobs[i].job ? jobs[i].job->name() : "", ordinals[i]));
  }
  return ids;
}

std::string Planner::IdOf(const Entry& e) { return EntryId(e.job->name(), e.ordinal); }

Planner::Entry::Entry(std::shared_ptr<Job> j, const Schedule& s, uint32_t k)
    : job(std::move(j)), every(s.every), ordinal(k) {
  if (s.daily_at) {
    has_daily = true;
    daily_hour = static_cast<int8_t>(s.daily_at->hour);
    daily_minute = static_cast<int8_t>(s.daily_at->minute);
    daily_utc = s.daily_at->utc;
  }
}

Schedule Planner::Entry::schedule() const {
  Schedule s;
  s.every = every;
  if (has_daily) s.daily_at = TimeOfDay{daily_hour, daily_minute, daily_utc};
  return s;
}

Planner::Planner(int max_concurrent, Millis max_start_jitter)
    : max_concurrent_(std::max(1, max_concurrent)),
      max_start_jitter_(std::max(Millis(0), max_start_jitter)) {
  static_assert(sizeof(Entry) <= 40, "an Entry is held six times per database (issue 14)");
}

Millis Planner::JitterFor(const std::string& db, const std::string& entry_id,
                          const Schedule& schedule) const {
  Millis bound = std::min(IntervalOf(schedule) / 10, max_start_jitter_);
  if (bound.count() <= 0) return Millis(0);
  uint64_t range = static_cast<uint64_t>(bound.count()) + 1;
  return Millis(static_cast<int64_t>(HashKey(db, entry_id) % range));
}

std::vector<SeedRequest> Planner::SetDatabases(std::vector<PlannedDatabase> dbs) {
  std::vector<SeedRequest> seeds;
  std::map<std::string_view, Db, std::less<>> next;
  uint32_t order = 0;
  for (PlannedDatabase& pd : dbs) {
    if (!pd.db || next.count(pd.db->name)) continue;
    const std::string& name = pd.db->name;
    Db fresh;
    fresh.db = pd.db;
    fresh.order = order++;
    auto old_it = dbs_.find(name);
    Db* old = old_it == dbs_.end() ? nullptr : &old_it->second;
    if (old) {
      fresh.busy_dispatch = old->busy_dispatch;
      fresh.last_served = old->last_served;
    }
    std::vector<uint32_t> ordinals = Ordinals(pd.jobs);
    fresh.entries.reserve(std::count_if(pd.jobs.begin(), pd.jobs.end(), [](const ScheduledJob& j) {
      return j.job && j.schedule.enabled();
    }));
    for (size_t i = 0; i < pd.jobs.size(); ++i) {
      ScheduledJob& sj = pd.jobs[i];
      if (!sj.job || !sj.schedule.enabled()) continue;
      Entry e(std::move(sj.job), sj.schedule, ordinals[i]);
      std::string id = IdOf(e);
      const Entry* prev = nullptr;
      if (old) {
        for (const Entry& oe : old->entries) {
          if (IdOf(oe) == id) prev = &oe;
        }
      }
      if (prev && SameSchedule(prev->schedule(), e.schedule())) {
        e.due = prev->due;
        e.running = prev->running;
        // Not yet seeded: the lookup asked for earlier is still on its way.
      } else {
        seeds.push_back({pd.db, std::move(id), e.job});
      }
      fresh.entries.push_back(std::move(e));
    }
    next.emplace(std::string_view(fresh.db->name), std::move(fresh));
  }
  // Databases that are gone but still run a job stay (without entries) until it finishes,
  // so that nothing else starts on them meanwhile.
  for (auto& [name, old] : dbs_) {
    if (old.busy_dispatch != 0 && !next.count(name)) {
      old.entries.clear();
      old.removed = true;
      old.order = order++;
      std::string_view key = old.db->name;  // same ResolvedDatabase, moved along
      next.emplace(key, std::move(old));
    }
  }
  dbs_ = std::move(next);
  RebuildIndex();
  return seeds;
}

void Planner::Seed(const std::string& db, const std::string& entry_id,
                   std::optional<SystemTime> last_run, SystemTime now) {
  auto it = dbs_.find(db);
  Entry* e = FindEntry(db, entry_id);
  if (it == dbs_.end() || !e || e->seeded() || e->running) return;
  const Schedule schedule = e->schedule();
  SystemTime at_once = now + JitterFor(db, entry_id, schedule);
  if (schedule.daily_at) {
    const TimeOfDay& t = *schedule.daily_at;
    // First contact: a daily job that never ran (a full integrity_check, ANALYZE) waits for
    // its slot instead of reading every database at deploy time.
    bool missed = last_run && *last_run < PreviousTimeOfDay(t, now);
    e->due = missed ? at_once : NextTimeOfDay(t, now);
  } else if (!last_run || *last_run + schedule.every <= now) {
    e->due = at_once;
  } else {
    e->due = std::min(*last_run + schedule.every, now + schedule.every);
  }
  Reindex(it->second);
}

std::vector<Dispatch> Planner::TakeDue(SystemTime now) {
  Resync(now);
  std::vector<Dispatch> out;
  if (running_ >= max_concurrent_) return out;
  // Databases whose earliest due entry has come join the ready set (round-robin order).
  while (!waiting_.empty() && std::get<0>(*waiting_.begin()) <= now) {
    Db* d = std::get<2>(*waiting_.begin());
    waiting_.erase(waiting_.begin());
    ready_.emplace(d->last_served, d->indexed_due, d->order, d);
    ready_by_due_.emplace(d->indexed_due, d->order, d);
    d->slot = Db::Slot::kReady;
  }
  while (running_ < max_concurrent_ && !ready_.empty()) {
    Db* db = std::get<3>(*ready_.begin());
    Unindex(*db);
    // Its earliest due entry (ties: JobsFor order); due, since the database was ready.
    Entry* best = nullptr;
    for (Entry& e : db->entries) {
      if (!e.seeded() || e.running) continue;
      if (!best || e.due < best->due) best = &e;
    }
    if (!best) continue;
    Dispatch d;
    d.db = db->db;
    d.job = best->job;
    d.entry_id = IdOf(*best);
    d.due = best->due;
    d.started = now;
    d.id = next_dispatch_id_++;
    best->running = true;
    db->busy_dispatch = d.id;
    db->last_served = ++serve_seq_;
    ++running_;
    out.push_back(std::move(d));
  }
  return out;
}

void Planner::Finished(const Dispatch& dispatch, SystemTime now) {
  auto it = dbs_.find(dispatch.db_name());
  if (it == dbs_.end() || it->second.busy_dispatch != dispatch.id || dispatch.id == 0) return;
  Db& d = it->second;
  d.busy_dispatch = 0;
  --running_;
  if (d.removed) {
    Unindex(d);
    dbs_.erase(it);
    return;
  }
  for (Entry& e : d.entries) {
    if (!e.running) continue;  // d.busy_dispatch was dispatch.id: this is its entry
    e.running = false;
    const Schedule schedule = e.schedule();
    if (schedule.daily_at) {
      e.due = NextTimeOfDay(*schedule.daily_at, now);
    } else {
      SystemTime next = dispatch.started + schedule.every;
      e.due = next > now ? next : now + std::min(schedule.every, kMaxRerunDelay);
    }
  }
  Reindex(d);
}

std::optional<SystemTime> Planner::NextWakeup() const {
  if (running_ >= max_concurrent_) return std::nullopt;
  std::optional<SystemTime> best;
  if (!waiting_.empty()) best = std::get<0>(*waiting_.begin());
  if (!ready_by_due_.empty()) {
    SystemTime ready = std::get<0>(*ready_by_due_.begin());
    if (!best || ready < *best) best = ready;
  }
  return best;
}

void Planner::Unindex(Db& d) {
  if (d.slot == Db::Slot::kWaiting) {
    waiting_.erase({d.indexed_due, d.order, &d});
  } else if (d.slot == Db::Slot::kReady) {
    ready_.erase({d.last_served, d.indexed_due, d.order, &d});
    ready_by_due_.erase({d.indexed_due, d.order, &d});
  }
  d.slot = Db::Slot::kNone;
}

void Planner::Reindex(Db& d) {
  Unindex(d);
  if (d.busy_dispatch != 0 || d.removed) return;
  std::optional<SystemTime> earliest;
  for (const Entry& e : d.entries) {
    if (!e.seeded() || e.running) continue;
    if (!earliest || e.due < *earliest) earliest = e.due;
  }
  if (!earliest) return;
  // Filed as waiting even when already due: the next TakeDue() moves it to ready_ in the
  // same order a full scan would have used.
  d.indexed_due = *earliest;
  d.slot = Db::Slot::kWaiting;
  waiting_.emplace(d.indexed_due, d.order, &d);
}

void Planner::RebuildIndex() {
  waiting_.clear();
  ready_.clear();
  ready_by_due_.clear();
  for (auto& [name, d] : dbs_) {
    d.slot = Db::Slot::kNone;
    Reindex(d);
  }
}

void Planner::Resync(SystemTime now) {
  bool stepped_back = last_now_ && now + kClockStepTolerance < *last_now_;
  last_now_ = now;
  if (!stepped_back) return;
  for (auto& [name, d] : dbs_) {
    for (Entry& e : d.entries) {
      if (!e.seeded() || e.running) continue;
      const Schedule schedule = e.schedule();
      SystemTime latest =
          schedule.daily_at ? NextTimeOfDay(*schedule.daily_at, now) : now + schedule.every;
      if (e.due > latest) e.due = latest;
    }
  }
  RebuildIndex();
}

Planner::Entry* Planner::FindEntry(const std::string& db, const std::string& entry_id) {
  auto it = dbs_.find(db);
  if (it == dbs_.end()) return nullptr;
  for (Entry& e : it->second.entries) {
    if (IdOf(e) == entry_id) return &e;
  }
  return nullptr;
}

const Planner::Entry* Planner::FindEntry(const std::string& db, const std::string& entry_id) const {
  return const_cast<Planner*>(this)->FindEntry(db, entry_id);
}

std::optional<SystemTime> Planner::DueTime(const std::string& db,
                                           const std::string& entry_id) const {
  const Entry* e = FindEntry(db, entry_id);
  if (!e || !e->seeded()) return std::nullopt;
  return e->due;
}

bool Planner::HasEntry(const std::string& db, const std::string& entry_id) const {
  return FindEntry(db, entry_id) != nullptr;
}

size_t Planner::unseeded() const {
  size_t n = 0;
  for (const auto& [name, d] : dbs_) {
    for (const Entry& e : d.entries) n += (!e.seeded() && !e.running) ? 1 : 0;
  }
  return n;
}

}  // namespace maintd
