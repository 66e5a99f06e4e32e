#pragma once
// The scheduler's decisions, without threads, timers or I/O: which job of which database is
// due when, and which due jobs may start now. The Asio driver (scheduler.h) owns one Planner
// and calls it from the event-loop thread only. Not thread-safe. Every call takes the time
// explicitly (`now`, read by the caller from its Clock), so tests drive it with a FakeClock
// and never sleep.
//
// Rules (CONTRACT.md section 4):
// - Entries are keyed by (database name, entry id). The entry id is the job's name
//   ("checkpoint"); a database with several jobs of one name (one per retention or
//   lease_requeue rule) gets "name#2", "name#3", ... for the second, third, ... in order.
// - A new entry is not due until it is seeded with its last run from the journal (Seed()):
//   `every` jobs: never ran, or last run + every <= now -> due now + jitter; else due at
//     last run + every (capped at now + every when the last run lies in the future).
//   `daily_at` jobs: last run before the most recent occurrence of the time of day (the run
//     was missed while the daemon was down) -> due now + jitter; never ran (first contact:
//     a full integrity_check or ANALYZE must not read every database at deploy time) or
//     ran since -> at the next occurrence. So a daily job that already ran today does not
//     run again today, and a new database waits for the slot (CONTRACT.md section 7).
// - Jitter: a deterministic hash of (database, entry id) mapped into
//   [0, min(interval / 10, max_start_jitter)] (interval of a daily job: 24h), so a thousand
//   databases do not all start at the same moment, and a restart keeps each one's offset.
// - Jobs on one database never overlap; at most max_concurrent jobs run in total. Due
//   entries that cannot start stay due. Among databases with a startable due entry, the one
//   served least recently goes first (round robin: a database with many due jobs cannot
//   starve another); within a database the earliest due entry goes first (ties: JobsFor
//   order).
// - After a run: `every` -> started + every, or now + min(every, 1s) when that is already
//   past (a slow job does not spin); `daily_at` -> the next occurrence after now.
// - When the wall clock moves backwards (by more than a second), due times are pulled in to
//   at most now + every (`every`) or the next occurrence (`daily_at`).
//
// Cost: TakeDue(), NextWakeup(), Seed() and Finished() are O(log n) in the number of
// databases (plus the entries of the one database they touch): each idle database is
// indexed by its earliest due entry, so ten thousand tenants do not make every job start
// scan them all. SetDatabases() and a backwards clock step rebuild the index (O(n log n)).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "lib/config/config.h"
#include "lib/core/clock.h"
#include "lib/jobs/job.h"
#include "lib/jobs/registry.h"

namespace maintd {

// One database and its scheduled jobs (JobsFor(db) in the daemon).
struct PlannedDatabase {
  std::shared_ptr<const ResolvedDatabase> db;
  std::vector<ScheduledJob> jobs;
};

// An entry that needs its last run looked up, then passed to Planner::Seed().
struct SeedRequest {
  std::shared_ptr<const ResolvedDatabase> db;
  std::string entry_id;
  std::shared_ptr<Job> job;
};

// A job the planner started. Pass it back to Finished() when the run is over.
struct Dispatch {
  std::shared_ptr<const ResolvedDatabase> db;
  std::shared_ptr<Job> job;
  std::string entry_id;
  SystemTime due;      // when it became due
  SystemTime started;  // the `now` of the TakeDue() call that started it
  uint64_t id = 0;     // unique per dispatch, never 0
  const std::string& db_name() const { return db->name; }
};

class Planner {
 public:
  // max_concurrent < 1 is treated as 1.
  explicit Planner(int max_concurrent, Millis max_start_jitter = std::chrono::seconds(30));

  // Replaces the set of databases (config reload, glob rescan). An entry whose (database,
  // entry id) and schedule are unchanged keeps its due time (its job instance and database
  // config are replaced by the new ones); entries not in `dbs` are dropped (a running one
  // finishes first, and its database stays busy until then); new entries, and entries whose
  // schedule changed, are returned and are not due until seeded (a kept entry still waiting
  // for its seed is not returned again: the Seed() asked for earlier still applies). Entries with a
  // disabled schedule are ignored; of several databases with one name, the first wins.
  std::vector<SeedRequest> SetDatabases(std::vector<PlannedDatabase> dbs);

  // Sets the first due time of an entry from its last run (nullopt: never ran or unknown).
  // Ignored when the entry is gone or already seeded.
  void Seed(const std::string& db, const std::string& entry_id, std::optional<SystemTime> last_run,
            SystemTime now);

  // The due entries that may start at `now`, marked running, in start order.
  std::vector<Dispatch> TakeDue(SystemTime now);

  // Marks a dispatch over and sets the entry's next due time. Unknown or repeated
  // dispatches are ignored.
  void Finished(const Dispatch& dispatch, SystemTime now);

  // When TakeDue() may next return something: the earliest due time among seeded entries
  // that are not running and whose database is idle. nullopt when there is none, or when
  // max_concurrent jobs run (the next Finished() is then the next event). May lie in the
  // past when TakeDue() has not been called since.
  std::optional<SystemTime> NextWakeup() const;

  // Jobs running now (dispatched and not yet Finished).
  int running() const { return running_; }
  // Due time of an entry: nullopt when unknown or not yet seeded. For tests and status.
  std::optional<SystemTime> DueTime(const std::string& db, const std::string& entry_id) const;
  // Whether an entry exists (seeded or not).
  bool HasEntry(const std::string& db, const std::string& entry_id) const;
  // Entries that wait for Seed().
  size_t unseeded() const;

  // The start jitter of an entry (see above); deterministic.
  Millis JitterFor(const std::string& db, const std::string& entry_id,
                   const Schedule& schedule) const;

 private:
  // Memory: ten thousand databases hold six entries each, so an entry is 40 bytes: no id
  // string (IdOf() derives it from the job's name and `ordinal`), no optional (kUnseeded),
  // the schedule packed (schedule() unpacks it), and `running` instead of a dispatch id (a
  // database runs one job at a time: Db::busy_dispatch is its id). The vector is sized
  // exactly; the map key views the name owned by Db::db (see dbs_).
  static constexpr SystemTime kUnseeded = SystemTime::min();
  struct Entry {
    std::shared_ptr<Job> job;
    SystemTime due = kUnseeded;  // kUnseeded: waiting for Seed()
    Millis every{0};             // Schedule::every
    uint32_t ordinal = 1;        // k-th job of this name on the database (see EntryIds)
    int8_t daily_hour = 0;       // Schedule::daily_at when has_daily (ParseTimeOfDay: 0-23)
    int8_t daily_minute = 0;     // 0-59
    bool has_daily : 1 = false;
    bool daily_utc : 1 = false;
    bool running : 1 = false;  // the job of Db::busy_dispatch
    Entry(std::shared_ptr<Job> j, const Schedule& s, uint32_t k);
    Schedule schedule() const;
    bool seeded() const { return due != kUnseeded; }
  };
  struct Db {
    std::shared_ptr<const ResolvedDatabase> db;  // owns the name dbs_ is keyed by
    std::vector<Entry> entries;  // JobsFor order
    uint64_t busy_dispatch = 0;  // dispatch running on this database; 0: idle
    uint64_t last_served = 0;    // serve_seq_ when a job last started here; 0: never
    // Where the index holds this database (see Reindex): nowhere (busy, removed or nothing
    // seeded), in waiting_ (its earliest due lies after the last TakeDue's now) or in
    // ready_ (due; ordered for round robin). indexed_due is the key it was filed under.
    SystemTime indexed_due{};
    uint32_t order = 0;   // position in the last SetDatabases()
    bool removed = false;  // kept only until its running job finishes
    enum class Slot : uint8_t { kNone, kWaiting, kReady } slot = Slot::kNone;
  };
  // (earliest due, order): idle databases whose earliest due entry is not yet due.
  using WaitingKey = std::tuple<SystemTime, size_t, Db*>;
  // (last served, earliest due, order): idle databases with a due entry, in start order.
  using ReadyKey = std::tuple<uint64_t, SystemTime, size_t, Db*>;

  // The entry id of `e` ("name" or "name#k"), equal to EntryIds() for its position.
  static std::string IdOf(const Entry& e);
  Entry* FindEntry(const std::string& db, const std::string& entry_id);
  const Entry* FindEntry(const std::string& db, const std::string& entry_id) const;
  // Pulls due times in after the wall clock moved backwards.
  void Resync(SystemTime now);
  // Files `d` under its earliest due entry (or nowhere); call after any change to its
  // entries, busy state or removal. Unindex() takes it out.
  void Reindex(Db& d);
  void Unindex(Db& d);
  // Rebuilds the whole index (after dbs_ was replaced or every due time may have moved).
  void RebuildIndex();

  int max_concurrent_;
  Millis max_start_jitter_;
  // Keyed by a view of Db::db->name (the node keeps that ResolvedDatabase alive, and a
  // replaced node gets a key viewing its new one). Node addresses are stable: the index
  // points into it.
  std::map<std::string_view, Db, std::less<>> dbs_;
  std::set<WaitingKey> waiting_;
  std::set<ReadyKey> ready_;
  // The due times of ready_, for NextWakeup(): (earliest due, order, db).
  std::set<WaitingKey> ready_by_due_;
  int running_ = 0;
  uint64_t next_dispatch_id_ = 1;
  uint64_t serve_seq_ = 0;
  std::optional<SystemTime> last_now_;
};

// Entry ids for a database's jobs in order: name, or name#k for the k-th job of that name.
std::vector<std::string> EntryIds(const std::vector<ScheduledJob>& jobs);

}  // namespace maintd
