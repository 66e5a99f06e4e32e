// The Asio driver with a real io_context, the real clock and tiny intervals. The loop runs
// on the test thread (RunUntil), so the Scheduler is only touched from its loop thread.

#include "lib/schedule/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace maintd {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Runs the loop until `cond` holds; false on timeout.
bool RunUntil(asio::io_context& loop, const std::function<bool()>& cond, Millis timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (!cond()) {
    if (SteadyClock::now() >= deadline) return false;
    if (loop.stopped()) loop.restart();
    loop.run_one_for(10ms);
  }
  return true;
}

// Runs the loop for `d` (to observe that something does NOT happen meanwhile).
void RunFor(asio::io_context& loop, Millis d) {
  auto deadline = SteadyClock::now() + d;
  while (SteadyClock::now() < deadline) {
    if (loop.stopped()) loop.restart();
    loop.run_one_for(5ms);
  }
}

// A database whose scheduled jobs are health, checkpoint and vacuum every `every`, plus
// journal_prune (daily interval), via the real registry.
ResolvedDatabase FastDb(const std::string& name, Millis every) {
  ResolvedDatabase db;
  db.name = name;
  db.path = "/nonexistent/" + name + ".db";
  db.policy.health.quick_check_every = every;
  db.policy.health.integrity_check_daily_at.reset();
  db.policy.checkpoint.every = every;
  db.policy.vacuum.check_every = every;
  db.policy.analyze.daily_at.reset();
  db.policy.backup.every = 0ms;
  return db;
}

// Counts runs per database and job, and checks the overlap rules from the worker threads.
struct Probe {
  std::thread::id loop_thread = std::this_thread::get_id();
  std::atomic<int> runs{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int> overlaps{0};  // two jobs on one database at once
  std::atomic<int> on_loop_thread{0};
  std::mutex mu;
  std::map<std::string, int> db_in_flight;
  std::map<std::string, int> runs_by_key;  // "db/job"

  void Run(const ResolvedDatabase& db, Job& job, Millis work_time) {
    if (std::this_thread::get_id() == loop_thread) ++on_loop_thread;
    {
      std::lock_guard lock(mu);
      if (++db_in_flight[db.name] > 1) ++overlaps;
      ++runs_by_key[db.name + "/" + job.name()];
    }
    int now = ++in_flight;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(work_time);  // the job's own work
    --in_flight;
    {
      std::lock_guard lock(mu);
      --db_in_flight[db.name];
    }
    ++runs;
  }
  int RunsOf(const std::string& key) {
    std::lock_guard lock(mu);
    return runs_by_key[key];
  }
};

TEST(SchedulerTest, RunsJobsOnWorkersWithoutOverlapPerDatabase) {
  asio::io_context loop;
  Probe probe;
  std::atomic<int> lookups_on_loop{0};
  Scheduler scheduler(
      loop, RealClock::Instance(), 2,
      [&](const ResolvedDatabase& db, Job& job) { probe.Run(db, job, 15ms); },
      [&](const ResolvedDatabase&, const Job&) -> std::optional<SystemTime> {
        if (std::this_thread::get_id() == probe.loop_thread) ++lookups_on_loop;
        return std::nullopt;
      },
      0ms);
  int events_started = 0, events_finished = 0;
  scheduler.OnJobEvent([&](const std::string&, const std::string&, bool started) {
    (started ? events_started : events_finished)++;
    EXPECT_LE(scheduler.running_jobs(), 2u);
  });
  scheduler.SetDatabases({FastDb("a", 50ms), FastDb("b", 50ms), FastDb("c", 50ms)});
  auto begin = SteadyClock::now();
  scheduler.Start();
  ASSERT_TRUE(RunUntil(
      loop, [&] { return probe.runs.load() >= 40; }, 10s));
  Millis elapsed = std::chrono::duration_cast<Millis>(SteadyClock::now() - begin);

  EXPECT_EQ(probe.overlaps.load(), 0);
  EXPECT_EQ(probe.on_loop_thread.load(), 0);
  EXPECT_EQ(lookups_on_loop.load(), 0);
  EXPECT_LE(probe.max_in_flight.load(), 2);
  EXPECT_EQ(probe.max_in_flight.load(), 2) << "three busy databases should use both workers";
  for (const char* db : {"a", "b", "c"}) {
    EXPECT_GE(probe.RunsOf(std::string(db) + "/checkpoint"), 2) << db;
    // Every 50ms at most (plus the first run): the scheduler does not spin.
    EXPECT_LE(probe.RunsOf(std::string(db) + "/checkpoint"), elapsed / 50ms + 2) << db;
    EXPECT_EQ(probe.RunsOf(std::string(db) + "/journal_prune"), 1) << "daily interval";
  }
  EXPECT_GE(events_started, events_finished);
  EXPECT_LE(events_started - events_finished, 2);

  bool idle = false;
  scheduler.Stop([&] { idle = true; });
  ASSERT_TRUE(RunUntil(
      loop, [&] { return idle; }, 5s));
  EXPECT_EQ(scheduler.running_jobs(), 0u);
  EXPECT_EQ(events_started, events_finished);
}

TEST(SchedulerTest, LastRunFromTheJournalDelaysTheFirstRun) {
  asio::io_context loop;
  std::mutex mu;
  std::map<std::string, SteadyClock::time_point> first_run;
  auto begin = SteadyClock::now();
  Scheduler scheduler(
      loop, RealClock::Instance(), 1,
      [&](const ResolvedDatabase&, Job& job) {
        std::lock_guard lock(mu);
        first_run.try_emplace(job.name(), SteadyClock::now());
      },
      [&](const ResolvedDatabase&, const Job& job) -> std::optional<SystemTime> {
        // checkpoint ran just now; vacuum long ago; health never.
        if (job.name() == "checkpoint") return RealClock::Instance().Now();
        if (job.name() == "vacuum") return RealClock::Instance().Now() - 1h;
        return std::nullopt;
      },
      0ms);
  scheduler.SetDatabases({FastDb("a", 400ms)});
  scheduler.Start();
  auto has = [&](const std::string& job) {
    std::lock_guard lock(mu);
    return first_run.count(job) > 0;
  };
  ASSERT_TRUE(RunUntil(
      loop, [&] { return has("checkpoint"); }, 5s));
  std::lock_guard lock(mu);
  ASSERT_TRUE(first_run.count("vacuum") && first_run.count("health"));
  // vacuum's last run is older than its interval and health never ran: both are due at
  // once, so they run before checkpoint, which ran just before the start.
  EXPECT_LT(first_run["vacuum"], first_run["checkpoint"]);
  EXPECT_LT(first_run["health"], first_run["checkpoint"]);
  EXPECT_GE(first_run["checkpoint"] - begin, 350ms);
}

TEST(SchedulerTest, StopWaitsForTheRunningJobThenCallsOnIdle) {
  asio::io_context loop;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> started{0};
  Scheduler scheduler(
      loop, RealClock::Instance(), 1,
      [&](const ResolvedDatabase&, Job&) {
        ++started;
        std::unique_lock lock(mu);
        cv.wait_for(lock, 10s, [&] { return release; });
      },
      [](const ResolvedDatabase&, const Job&) { return std::optional<SystemTime>(); }, 0ms);
  scheduler.SetDatabases({FastDb("a", 20ms), FastDb("b", 20ms)});
  scheduler.Start();
  ASSERT_TRUE(RunUntil(
      loop, [&] { return started.load() == 1; }, 5s));
  EXPECT_EQ(scheduler.running_jobs(), 1u);

  bool idle = false;
  scheduler.Stop([&] { idle = true; });
  RunFor(loop, 150ms);
  EXPECT_FALSE(idle) << "a job is still running";
  EXPECT_EQ(scheduler.running_jobs(), 1u);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(RunUntil(
      loop, [&] { return idle; }, 5s));
  EXPECT_EQ(scheduler.running_jobs(), 0u);
  RunFor(loop, 100ms);
  EXPECT_EQ(started.load(), 1) << "nothing starts after Stop()";
}

TEST(SchedulerTest, StopWhenIdleCallsOnIdleAtOnce) {
  asio::io_context loop;
  Scheduler scheduler(
      loop, RealClock::Instance(), 1, [](const ResolvedDatabase&, Job&) {},
      [](const ResolvedDatabase&, const Job&) { return std::optional<SystemTime>(); }, 0ms);
  bool idle = false;
  scheduler.Stop([&] { idle = true; });
  EXPECT_FALSE(idle) << "posted, not called inline";
  EXPECT_TRUE(RunUntil(
      loop, [&] { return idle; }, 2s));
}

TEST(SchedulerTest, ThrowingWorkAndLookupDoNotStopTheScheduler) {
  asio::io_context loop;
  std::atomic<int> runs{0};
  Scheduler scheduler(
      loop, RealClock::Instance(), 1,
      [&](const ResolvedDatabase&, Job&) {
        ++runs;
        throw std::runtime_error("boom");
      },
      [](const ResolvedDatabase&, const Job&) -> std::optional<SystemTime> {
        throw std::runtime_error("journal unreadable");
      },
      0ms);
  scheduler.SetDatabases({FastDb("a", 20ms)});
  scheduler.Start();
  EXPECT_TRUE(RunUntil(
      loop, [&] { return runs.load() >= 5; }, 5s));
  bool idle = false;
  scheduler.Stop([&] { idle = true; });
  EXPECT_TRUE(RunUntil(
      loop, [&] { return idle; }, 5s));
}

TEST(SchedulerTest, RemovedDatabaseGetsNoMoreJobs) {
  asio::io_context loop;
  Probe probe;
  Scheduler scheduler(
      loop, RealClock::Instance(), 2,
      [&](const ResolvedDatabase& db, Job& job) { probe.Run(db, job, 1ms); },
      [](const ResolvedDatabase&, const Job&) { return std::optional<SystemTime>(); }, 0ms);
  scheduler.SetDatabases({FastDb("a", 20ms), FastDb("b", 20ms)});
  scheduler.Start();
  ASSERT_TRUE(RunUntil(
      loop, [&] { return probe.RunsOf("b/checkpoint") >= 2; }, 5s));
  scheduler.SetDatabases({FastDb("a", 20ms)});
  ASSERT_TRUE(RunUntil(
      loop, [&] { return scheduler.running_jobs() == 0; }, 5s));
  int b_runs = probe.RunsOf("b/checkpoint");
  int a_runs = probe.RunsOf("a/checkpoint");
  RunFor(loop, 150ms);
  EXPECT_EQ(probe.RunsOf("b/checkpoint"), b_runs);
  EXPECT_GT(probe.RunsOf("a/checkpoint"), a_runs) << "unchanged database keeps running";
  bool idle = false;
  scheduler.Stop([&] { idle = true; });
  EXPECT_TRUE(RunUntil(
      loop, [&] { return idle; }, 5s));
}

}  // namespace
}  // namespace maintd
