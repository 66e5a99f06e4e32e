// The planner's index (issue 14: O(log n) per job start instead of a scan of every
// database) must choose exactly what a full scan would. A random walk of starts, finishes,
// seeds, clock steps and reloads is checked, step by step, against a brute-force oracle
// written from the rules in planner.h, using only the planner's public view (DueTime).

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "lib/schedule/planner.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

class NoopJob final : public Job {
 public:
  explicit NoopJob(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Result<JobReport> Run(JobContext&) override { return Status::Failed("not run in tests"); }

 private:
  std::string name_;
};

const char* const kJobs[] = {"health", "checkpoint", "vacuum", "journal_prune"};
const Millis kEvery[] = {1min, 5min, 7min, 13min};

PlannedDatabase MakeDb(int i) {
  auto db = std::make_shared<ResolvedDatabase>();
  db->name = "tenant" + std::to_string(i);
  db->path = "/data/" + db->name + ".db";
  PlannedDatabase pd{db, {}};
  for (int j = 0; j < 4; ++j) {
    pd.jobs.push_back({std::make_shared<NoopJob>(kJobs[j]), Schedule{kEvery[j], std::nullopt}});
  }
  // A daily job too, so both kinds of due time take part.
  pd.jobs.push_back({std::make_shared<NoopJob>("analyze"), Schedule{0ms, TimeOfDay{3, 0, true}}});
  return pd;
}

// What the test knows that the planner's public view does not show: who runs, who was
// served when, and each database's position.
struct Oracle {
  std::vector<std::string> order;                  // database names in SetDatabases order
  std::map<std::string, uint64_t> last_served;     // 0: never
  std::map<std::string, std::string> running;      // db -> entry id
  uint64_t seq = 0;
  std::vector<std::string> entries = {"health", "checkpoint", "vacuum", "journal_prune",
                                      "analyze"};

  // The candidates a full scan would start, in order: (db, entry).
  std::vector<std::pair<std::string, std::string>> Expected(const Planner& p, SystemTime now,
                                                            int slots) const {
    std::vector<std::tuple<uint64_t, SystemTime, size_t, std::string, std::string>> c;
    for (size_t i = 0; i < order.size(); ++i) {
      const std::string& db = order[i];
      if (running.count(db)) continue;
      std::optional<SystemTime> best;
      std::string best_id;
      for (const std::string& e : entries) {
        auto due = p.DueTime(db, e);
        if (!due || *due > now) continue;
        if (!best || *due < *best) best = due, best_id = e;
      }
      auto it = last_served.find(db);
      if (best) c.emplace_back(it == last_served.end() ? 0 : it->second, *best, i, db, best_id);
    }
    std::sort(c.begin(), c.end());
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& t : c) {
      if (static_cast<int>(out.size()) >= slots) break;
      out.emplace_back(std::get<3>(t), std::get<4>(t));
    }
    return out;
  }

  std::optional<SystemTime> Wakeup(const Planner& p, int max_concurrent) const {
    if (static_cast<int>(running.size()) >= max_concurrent) return std::nullopt;
    std::optional<SystemTime> best;
    for (const std::string& db : order) {
      if (running.count(db)) continue;
      for (const std::string& e : entries) {
        auto due = p.DueTime(db, e);
        if (due && (!best || *due < *best)) best = due;
      }
    }
    return best;
  }
};

TEST(PlannerIndexTest, RandomWalkChoosesWhatAFullScanWould) {
  constexpr int kMaxConcurrent = 3;
  std::mt19937 rng(20261130);
  FakeClock clock(sys_days{std::chrono::year{2026} / 3 / 10} + 2h + 50min);
  Planner p(kMaxConcurrent, 30s);
  Oracle o;
  std::vector<SeedRequest> pending;
  auto set_databases = [&](int first, int count) {
    std::vector<PlannedDatabase> dbs;
    // A database the planner no longer knew starts as never served.
    std::set<std::string> known(o.order.begin(), o.order.end());
    for (const auto& [db, entry] : o.running) known.insert(db);
    o.order.clear();
    for (int i = first; i < first + count; ++i) {
      dbs.push_back(MakeDb(i));
      o.order.push_back(dbs.back().db->name);
      if (!known.count(o.order.back())) o.last_served.erase(o.order.back());
    }
    for (SeedRequest& s : p.SetDatabases(std::move(dbs))) pending.push_back(std::move(s));
    // Databases that are gone stay busy only until their job finishes; the oracle sees
    // only the listed ones (a removed one cannot be a candidate).
  };
  set_databases(0, 40);
  std::vector<Dispatch> in_flight;
  int started = 0;
  for (int step = 0; step < 3000; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    // Seeds arrive in random batches (the lookup thread), some with a recent last run.
    std::shuffle(pending.begin(), pending.end(), rng);
    size_t seed_now = std::min<size_t>(pending.size(), rng() % 8);
    for (size_t i = 0; i < seed_now; ++i) {
      std::optional<SystemTime> last;
      if (rng() % 3 == 0) last = clock.Now() - Millis(rng() % 600000);
      p.Seed(pending.back().db->name, pending.back().entry_id, last, clock.Now());
      pending.pop_back();
    }
    // Finish some of the running jobs.
    for (size_t i = 0; i < in_flight.size();) {
      if (rng() % 2 == 0) {
        p.Finished(in_flight[i], clock.Now());
        o.running.erase(in_flight[i].db_name());
        in_flight.erase(in_flight.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    ASSERT_EQ(p.NextWakeup(), o.Wakeup(p, kMaxConcurrent));
    // Time moves: mostly forwards, now and then a backwards step (NTP, a VM restore).
    int r = static_cast<int>(rng() % 100);
    if (r < 2) {
      clock.Advance(-Millis(60000 + rng() % 600000));
    } else {
      clock.Advance(Millis(rng() % 20000));
    }
    // Now and then a reload: the glob lost some databases and found new ones.
    if (rng() % 200 == 0) set_databases(static_cast<int>(rng() % 10), 35);
    const int slots = kMaxConcurrent - static_cast<int>(in_flight.size());
    // (A backwards step is applied inside TakeDue() (Resync), after the oracle read the due
    // times: those steps are not compared; the next NextWakeup() check covers them.)
    auto expected_before = o.Expected(p, clock.Now(), slots);
    auto got = p.TakeDue(clock.Now());
    if (r >= 2) {
      std::vector<std::pair<std::string, std::string>> got_ids;
      for (const Dispatch& d : got) got_ids.emplace_back(d.db_name(), d.entry_id);
      ASSERT_EQ(got_ids, expected_before);
    }
    for (Dispatch& d : got) {
      o.running[d.db_name()] = d.entry_id;
      o.last_served[d.db_name()] = ++o.seq;
      in_flight.push_back(std::move(d));
      ++started;
    }
  }
  EXPECT_GT(started, 1000) << "the walk must exercise the planner";
}

}  // namespace
}  // namespace maintd
