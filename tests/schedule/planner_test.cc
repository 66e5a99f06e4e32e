// The scheduler's planner, driven by a FakeClock: no threads, no sleeps.

#include "lib/schedule/planner.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <set>

namespace maintd {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

class FakeJob final : public Job {
 public:
  explicit FakeJob(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Result<JobReport> Run(JobContext&) override { return Status::Failed("not run in tests"); }

 private:
  std::string name_;
};

ScheduledJob Every(const std::string& name, Millis every) {
  return {std::make_shared<FakeJob>(name), Schedule{every, std::nullopt}};
}
ScheduledJob Daily(const std::string& name, int hour, int minute) {
  return {std::make_shared<FakeJob>(name), Schedule{0ms, TimeOfDay{hour, minute, true}}};
}

PlannedDatabase Db(const std::string& name, std::vector<ScheduledJob> jobs) {
  auto db = std::make_shared<ResolvedDatabase>();
  db->name = name;
  db->path = "/data/" + name + ".db";
  return {db, std::move(jobs)};
}

// 2026-03-10 12:00:00 UTC; daily times in these tests are UTC ("03:00Z").
const SystemTime kNoon = sys_days{std::chrono::year{2026} / 3 / 10} + 12h;

class PlannerTest : public ::testing::Test {
 protected:
  FakeClock clock_{kNoon};
  SystemTime now() const { return clock_.Now(); }

  // Adds the databases and seeds every entry with `last_run`.
  void AddSeeded(Planner& p, std::vector<PlannedDatabase> dbs,
                 std::optional<SystemTime> last_run = std::nullopt) {
    for (const SeedRequest& s : p.SetDatabases(std::move(dbs))) {
      p.Seed(s.db->name, s.entry_id, last_run, now());
    }
  }
};

TEST_F(PlannerTest, NeverRanEveryJobIsDueAtOnceThenEveryInterval) {
  Planner p(1, 0ms);
  AddSeeded(p, {Db("a", {Every("checkpoint", 5min)})});
  EXPECT_EQ(p.DueTime("a", "checkpoint"), now());
  EXPECT_EQ(p.NextWakeup(), now());

  auto d = p.TakeDue(now());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].entry_id, "checkpoint");
  EXPECT_EQ(p.running(), 1);
  EXPECT_TRUE(p.TakeDue(now()).empty()) << "a running entry is not dispatched again";
  SystemTime started = now();
  clock_.Advance(2s);
  p.Finished(d[0], now());
  EXPECT_EQ(p.running(), 0);
  EXPECT_EQ(p.DueTime("a", "checkpoint"), started + 5min);
  EXPECT_EQ(p.NextWakeup(), started + 5min);

  EXPECT_TRUE(p.TakeDue(started + 5min - 1ms).empty());
  auto d2 = p.TakeDue(started + 5min);
  ASSERT_EQ(d2.size(), 1u);
  p.Finished(d2[0], started + 5min + 1s);
  p.Finished(d2[0], started + 5min + 1s);  // repeated: ignored
  EXPECT_EQ(p.running(), 0);
  EXPECT_EQ(p.DueTime("a", "checkpoint"), started + 10min);
}

TEST_F(PlannerTest, RestartRemembersRecentRun) {
  Planner p(1, 30s);
  auto seeds = p.SetDatabases({Db("a", {Every("checkpoint", 5min), Every("vacuum", 5min)})});
  ASSERT_EQ(seeds.size(), 2u);
  EXPECT_FALSE(p.NextWakeup().has_value()) << "nothing is due before its seed";
  EXPECT_TRUE(p.TakeDue(now() + 1h).empty());
  EXPECT_EQ(p.unseeded(), 2u);

  p.Seed("a", "checkpoint", now() - 2min, now());  // ran 2 minutes ago
  p.Seed("a", "vacuum", now() - 10min, now());     // ran 10 minutes ago
  EXPECT_EQ(p.DueTime("a", "checkpoint"), now() + 3min);
  Millis jitter = p.JitterFor("a", "vacuum", Schedule{5min, std::nullopt});
  EXPECT_LE(jitter, 30s);
  EXPECT_EQ(p.DueTime("a", "vacuum"), now() + jitter);
  p.Seed("a", "vacuum", now() - 1min, now());  // already seeded: ignored
  EXPECT_EQ(p.DueTime("a", "vacuum"), now() + jitter);
}

TEST_F(PlannerTest, LastRunInTheFutureIsCappedAtOneInterval) {
  Planner p(1, 0ms);
  p.SetDatabases({Db("a", {Every("checkpoint", 5min)})});
  p.Seed("a", "checkpoint", now() + 3h, now());
  EXPECT_EQ(p.DueTime("a", "checkpoint"), now() + 5min);
}

TEST_F(PlannerTest, SlowJobIsNotRestartedInALoop) {
  Planner p(1, 0ms);
  AddSeeded(p, {Db("a", {Every("vacuum", 1min)})});
  auto d = p.TakeDue(now());
  ASSERT_EQ(d.size(), 1u);
  clock_.Advance(3min);  // took longer than its interval
  p.Finished(d[0], now());
  EXPECT_EQ(p.DueTime("a", "vacuum"), now() + 1s);
  EXPECT_TRUE(p.TakeDue(now()).empty());
}

TEST_F(PlannerTest, DailyJobThatRanTodayWaitsForTomorrow) {
  Planner p(1, 0ms);
  p.SetDatabases({Db("a", {Daily("analyze", 3, 0)})});
  SystemTime today_3am = kNoon - 9h;
  p.Seed("a", "analyze", today_3am + 5s, now());
  EXPECT_EQ(p.DueTime("a", "analyze"), today_3am + 24h);
  EXPECT_TRUE(p.TakeDue(now()).empty());
}

TEST_F(PlannerTest, DailyJobMissedWhileDownRunsNowThenAtItsTime) {
  Planner p(1, 0ms);
  p.SetDatabases({Db("a", {Daily("analyze", 3, 0)})});
  SystemTime yesterday_3am = kNoon - 9h - 24h;
  p.Seed("a", "analyze", yesterday_3am + 5s, now());
  EXPECT_EQ(p.DueTime("a", "analyze"), now());
  auto d = p.TakeDue(now());
  ASSERT_EQ(d.size(), 1u);
  clock_.Advance(1min);
  p.Finished(d[0], now());
  EXPECT_EQ(p.DueTime("a", "analyze"), kNoon - 9h + 24h) << "next: tomorrow 03:00";
}

TEST_F(PlannerTest, DailyJobBeforeTodaysTimeWaitsForIt) {
  clock_.Set(kNoon - 10h);  // 02:00, the job ran yesterday at 03:00
  Planner p(1, 0ms);
  p.SetDatabases({Db("a", {Daily("integrity_check", 3, 0)})});
  p.Seed("a", "integrity_check", kNoon - 9h - 24h, now());
  EXPECT_EQ(p.DueTime("a", "integrity_check"), kNoon - 9h);
}

TEST_F(PlannerTest, DailyJobThatNeverRanWaitsForItsSlot) {
  // CONTRACT.md section 7: at first contact a daily full integrity_check or ANALYZE waits
  // for its time of day (no I/O storm at deploy time); an `every` job is due at once.
  Planner p(1, 30s);
  p.SetDatabases({Db("a", {Daily("analyze", 3, 0), Every("checkpoint", 5min)})});
  p.Seed("a", "analyze", std::nullopt, now());
  p.Seed("a", "checkpoint", std::nullopt, now());
  EXPECT_EQ(p.DueTime("a", "analyze"), kNoon - 9h + 24h);  // tomorrow 03:00
  Millis jitter = p.JitterFor("a", "checkpoint", Schedule{5min, std::nullopt});
  EXPECT_EQ(p.DueTime("a", "checkpoint"), now() + jitter);
}

TEST_F(PlannerTest, JobsOnOneDatabaseNeverOverlap) {
  Planner p(10, 0ms);
  AddSeeded(p,
            {Db("a", {Every("health", 1min), Every("checkpoint", 1min), Every("vacuum", 1min)})});
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    auto d = p.TakeDue(now());
    ASSERT_EQ(d.size(), 1u) << "round " << i;
    EXPECT_EQ(p.running(), 1);
    EXPECT_TRUE(p.TakeDue(now()).empty());
    EXPECT_FALSE(p.NextWakeup().has_value()) << "the database is busy";
    order.push_back(d[0].entry_id);
    p.Finished(d[0], now());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"health", "checkpoint", "vacuum"}));
}

TEST_F(PlannerTest, MaxConcurrentCapsAcrossDatabases) {
  Planner p(2, 0ms);
  std::vector<PlannedDatabase> dbs;
  for (int i = 0; i < 5; ++i)
    dbs.push_back(Db("db" + std::to_string(i), {Every("checkpoint", 1min)}));
  AddSeeded(p, std::move(dbs));
  auto first = p.TakeDue(now());
  ASSERT_EQ(first.size(), 2u);
  EXPECT_NE(first[0].db_name(), first[1].db_name());
  EXPECT_TRUE(p.TakeDue(now()).empty());
  EXPECT_FALSE(p.NextWakeup().has_value()) << "at the cap, only Finished() frees a slot";
  p.Finished(first[0], now());
  EXPECT_EQ(p.NextWakeup(), now()) << "due entries that could not start stay due";
  auto second = p.TakeDue(now());
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(p.running(), 2);
  std::set<std::string> started{first[0].db_name(), first[1].db_name(), second[0].db_name()};
  EXPECT_EQ(started.size(), 3u);
}

TEST_F(PlannerTest, BusyDatabaseDoesNotStarveAnother) {
  Planner p(1, 0ms);
  std::vector<ScheduledJob> many;
  for (const char* n : {"health", "checkpoint", "vacuum", "retention", "lease_requeue"}) {
    many.push_back(Every(n, 1h));
  }
  auto seeds = p.SetDatabases({Db("big", std::move(many)), Db("small", {Every("checkpoint", 1h)})});
  for (const SeedRequest& s : seeds) {
    if (s.db->name == "big") p.Seed("big", s.entry_id, std::nullopt, now());
  }
  clock_.Advance(1s);  // "small" becomes due a second after "big"'s backlog
  p.Seed("small", "checkpoint", std::nullopt, now());
  std::vector<std::string> served;
  for (int i = 0; i < 6; ++i) {
    auto d = p.TakeDue(now());
    ASSERT_EQ(d.size(), 1u);
    served.push_back(d[0].db_name());
    clock_.Advance(1s);
    p.Finished(d[0], now());
  }
  EXPECT_EQ(served[0], "big");
  EXPECT_EQ(served[1], "small") << "round robin across databases";
  EXPECT_EQ(std::count(served.begin(), served.end(), "big"), 5);
}

TEST_F(PlannerTest, SetDatabasesKeepsDueTimesAndDropsRemovedEntries) {
  Planner p(4, 0ms);
  AddSeeded(p,
            {Db("a", {Every("checkpoint", 5min), Every("vacuum", 15min)}),
             Db("b", {Every("checkpoint", 5min)})},
            now() - 1min);
  ASSERT_EQ(p.DueTime("a", "checkpoint"), now() + 4min);
  ASSERT_EQ(p.DueTime("a", "vacuum"), now() + 14min);

  clock_.Advance(30s);
  // "a": checkpoint unchanged, vacuum's schedule changed, health added; "b" removed; "c" new.
  auto seeds = p.SetDatabases(
      {Db("a", {Every("health", 1h), Every("checkpoint", 5min), Every("vacuum", 10min)}),
       Db("c", {Every("checkpoint", 5min)})});
  std::set<std::string> seeded;
  for (const SeedRequest& s : seeds) seeded.insert(s.db->name + "/" + s.entry_id);
  EXPECT_EQ(seeded, (std::set<std::string>{"a/health", "a/vacuum", "c/checkpoint"}));
  EXPECT_EQ(p.DueTime("a", "checkpoint"), now() + 3min + 30s) << "unchanged entry keeps due";
  EXPECT_FALSE(p.DueTime("a", "vacuum").has_value()) << "changed schedule: seeded again";
  EXPECT_FALSE(p.HasEntry("b", "checkpoint"));
  EXPECT_TRUE(p.HasEntry("c", "checkpoint"));
  EXPECT_EQ(p.unseeded(), 3u);
}

TEST_F(PlannerTest, RemovedDatabaseStaysBusyUntilItsJobFinishes) {
  Planner p(4, 0ms);
  AddSeeded(p, {Db("a", {Every("vacuum", 1min), Every("checkpoint", 1min)})});
  auto d = p.TakeDue(now());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(p.SetDatabases({}).empty());
  EXPECT_FALSE(p.HasEntry("a", "vacuum"));
  EXPECT_EQ(p.running(), 1);
  // Re-added while the old run is still going: nothing starts on it meanwhile.
  for (const SeedRequest& s : p.SetDatabases({Db("a", {Every("checkpoint", 1min)})})) {
    p.Seed(s.db->name, s.entry_id, std::nullopt, now());
  }
  EXPECT_TRUE(p.TakeDue(now()).empty());
  p.Finished(d[0], now());
  EXPECT_EQ(p.running(), 0);
  auto next = p.TakeDue(now());
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].entry_id, "checkpoint");
}

TEST_F(PlannerTest, RunningEntryKeptAcrossReloadIsScheduledAfterItFinishes) {
  Planner p(4, 0ms);
  AddSeeded(p, {Db("a", {Every("checkpoint", 5min)})});
  auto d = p.TakeDue(now());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(p.SetDatabases({Db("a", {Every("checkpoint", 5min)})}).empty());
  EXPECT_TRUE(p.TakeDue(now()).empty()) << "still running";
  p.Finished(d[0], now() + 1s);
  EXPECT_EQ(p.DueTime("a", "checkpoint"), d[0].started + 5min);
}

TEST_F(PlannerTest, JitterIsBoundedAndSpread) {
  Planner p(1, 30s);
  std::vector<PlannedDatabase> dbs;
  for (int i = 0; i < 1000; ++i) {
    dbs.push_back(Db("tenant" + std::to_string(i),
                     {Every("checkpoint", 5min), Every("lease_requeue", 1min)}));
  }
  AddSeeded(p, std::move(dbs));
  std::set<SystemTime> checkpoint_due;
  Millis max_lease{0};
  for (int i = 0; i < 1000; ++i) {
    std::string db = "tenant" + std::to_string(i);
    auto due = p.DueTime(db, "checkpoint");
    ASSERT_TRUE(due.has_value());
    EXPECT_GE(*due, now());
    EXPECT_LE(*due, now() + 30s);
    checkpoint_due.insert(*due);
    auto lease = p.DueTime(db, "lease_requeue");
    ASSERT_TRUE(lease.has_value());
    max_lease = std::max(max_lease, std::chrono::duration_cast<Millis>(*lease - now()));
  }
  EXPECT_GT(checkpoint_due.size(), 900u) << "1000 databases must not start together";
  EXPECT_LT(*checkpoint_due.begin(), now() + 3s);
  EXPECT_GT(*checkpoint_due.rbegin(), now() + 27s);
  EXPECT_LE(max_lease, 6s) << "bounded by a tenth of the interval";
  EXPECT_GT(max_lease, 5s);

  Planner none(1, 0ms);
  EXPECT_EQ(none.JitterFor("tenant1", "checkpoint", Schedule{5min, std::nullopt}), 0ms);
  EXPECT_EQ(p.JitterFor("tenant1", "checkpoint", Schedule{5min, std::nullopt}),
            p.JitterFor("tenant1", "checkpoint", Schedule{5min, std::nullopt}));
}

TEST_F(PlannerTest, ClockStepBackwardsPullsDueTimesIn) {
  Planner p(1, 0ms);
  AddSeeded(p, {Db("a", {Every("checkpoint", 5min), Daily("analyze", 3, 0)})}, now() - 1min);
  EXPECT_TRUE(p.TakeDue(now()).empty());
  ASSERT_EQ(p.DueTime("a", "checkpoint"), now() + 4min);
  ASSERT_EQ(p.DueTime("a", "analyze"), kNoon - 9h + 24h);
  clock_.Set(kNoon - 2h);  // back to 10:00
  EXPECT_TRUE(p.TakeDue(now()).empty());
  EXPECT_EQ(p.DueTime("a", "checkpoint"), now() + 5min);
  EXPECT_EQ(p.DueTime("a", "analyze"), kNoon - 9h + 24h);
  clock_.Set(kNoon - 10h);  // back to 02:00: today's 03:00 comes first
  EXPECT_TRUE(p.TakeDue(now()).empty());
  EXPECT_EQ(p.DueTime("a", "analyze"), kNoon - 9h);
  clock_.Advance(-500ms);  // a small step back is not a clock jump
  EXPECT_TRUE(p.TakeDue(now()).empty());
  EXPECT_EQ(p.DueTime("a", "checkpoint"), kNoon - 10h + 5min);
}

TEST(EntryIdsTest, RepeatedJobNamesGetNumbered) {
  std::vector<ScheduledJob> jobs{Every("retention", 1h), Every("checkpoint", 1h),
                                 Every("retention", 1h), Every("retention", 1h)};
  EXPECT_EQ(EntryIds(jobs),
            (std::vector<std::string>{"retention", "checkpoint", "retention#2", "retention#3"}));
}

// The planner derives entry ids instead of storing them (issue 14): each "name#k" must
// still name the k-th job of that name, through seeding, dispatch and a reload.
TEST_F(PlannerTest, RepeatedJobNamesKeepTheirOwnIdsAndSchedules) {
  Planner p(1, 0ms);
  auto jobs = [] {
    return std::vector<ScheduledJob>{Every("retention", 1min), Every("checkpoint", 1h),
                                     Every("retention", 2min), Every("retention", 3min)};
  };
  std::vector<std::string> ids;
  for (const SeedRequest& s : p.SetDatabases({Db("a", jobs())})) {
    ids.push_back(s.entry_id);
    p.Seed("a", s.entry_id, now(), now());  // ran just now: due one interval later
  }
  EXPECT_EQ(ids, EntryIds(jobs()));
  EXPECT_EQ(p.DueTime("a", "retention"), now() + 1min);
  EXPECT_EQ(p.DueTime("a", "retention#2"), now() + 2min);
  EXPECT_EQ(p.DueTime("a", "retention#3"), now() + 3min);
  EXPECT_FALSE(p.HasEntry("a", "retention#4"));
  auto d = p.TakeDue(now() + 2min);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].entry_id, "retention");
  p.Finished(d[0], now() + 2min);
  d = p.TakeDue(now() + 2min);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].entry_id, "retention#2");
  EXPECT_TRUE(p.SetDatabases({Db("a", jobs())}).empty()) << "unchanged entries keep their ids";
  p.Finished(d[0], now() + 2min);
  EXPECT_EQ(p.DueTime("a", "retention#2"), now() + 4min);
  EXPECT_EQ(p.DueTime("a", "retention#3"), now() + 3min);
}

// The schedule is stored packed (issue 14): a local daily_at time must stay local. The
// test runs in a zone five hours east of UTC (restored after), so local differs from UTC.
TEST_F(PlannerTest, LocalDailyTimeSurvivesAReload) {
  struct ScopedTz {
    std::optional<std::string> saved;
    ScopedTz() {
      if (const char* tz = std::getenv("TZ")) saved = tz;
      setenv("TZ", "UTC-5", 1);
      tzset();
    }
    ~ScopedTz() {
      if (saved) setenv("TZ", saved->c_str(), 1); else unsetenv("TZ");
      tzset();
    }
  } tz;
  Planner p(1, 0ms);
  const TimeOfDay local{3, 7, false};
  ASSERT_NE(NextTimeOfDay(local, now()), NextTimeOfDay(TimeOfDay{3, 7, true}, now()));
  auto db = [&] { return Db("a", {{std::make_shared<FakeJob>("analyze"), Schedule{0ms, local}}}); };
  AddSeeded(p, {db()});
  EXPECT_EQ(p.DueTime("a", "analyze"), NextTimeOfDay(local, now()));
  EXPECT_TRUE(p.SetDatabases({db()}).empty()) << "the same schedule is not a new entry";
}

TEST_F(PlannerTest, DisabledSchedulesAndDuplicateDatabasesAreIgnored) {
  Planner p(1, 0ms);
  auto seeds = p.SetDatabases({Db("a", {Every("backup", 0ms), Every("checkpoint", 1min)}),
                               Db("a", {Every("vacuum", 1min)})});
  ASSERT_EQ(seeds.size(), 1u);
  EXPECT_EQ(seeds[0].entry_id, "checkpoint");
  EXPECT_FALSE(p.HasEntry("a", "backup"));
  EXPECT_FALSE(p.HasEntry("a", "vacuum"));
}

}  // namespace
}  // namespace maintd
