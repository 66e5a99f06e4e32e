#include "lib/schedule/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <map>

#include "lib/core/log_context.h"

namespace maintd {

namespace {

// The longest the timer sleeps, so wall-clock jumps and DST changes are noticed.
constexpr Millis kMaxSleep = std::chrono::minutes(1);

}  // namespace

Scheduler::Scheduler(asio::io_context& loop, const Clock& clock, int max_concurrent_jobs, Work work,
                     LastRunLookup last_run, Millis max_start_jitter)
    : loop_(loop),
      clock_(clock),
      work_(std::move(work)),
      last_run_(std::move(last_run)),
      jobs_source_(JobsFor),
      planner_(max_concurrent_jobs, max_start_jitter),
      timer_(loop),
      alive_(std::make_shared<std::atomic<bool>>(true)),
      workers_(static_cast<size_t>(std::max(1, max_concurrent_jobs))),
      lookups_(1) {}

Scheduler::~Scheduler() {
  alive_->store(false);
  shutting_down_.store(true);
  timer_.cancel();
  workers_.join();
  lookups_.join();
}

void Scheduler::SetDatabases(std::vector<ResolvedDatabase> dbs) {
  std::vector<std::shared_ptr<const ResolvedDatabase>> shared;
  shared.reserve(dbs.size());
  for (ResolvedDatabase& db : dbs) {
    shared.push_back(std::make_shared<const ResolvedDatabase>(std::move(db)));
  }
  SetDatabases(std::move(shared));
}

void Scheduler::SetDatabases(std::vector<std::shared_ptr<const ResolvedDatabase>> dbs) {
  std::vector<PlannedDatabase> planned;
  planned.reserve(dbs.size());
  for (std::shared_ptr<const ResolvedDatabase>& db : dbs) {
    std::vector<ScheduledJob> jobs = jobs_source_(*db);
    planned.push_back({std::move(db), std::move(jobs)});
  }
  RequestSeeds(planner_.SetDatabases(std::move(planned)));
  Pump();
}

void Scheduler::RequestSeeds(std::vector<SeedRequest> seeds) {
  // One lookup task per database, so its results arrive (and become due) together.
  std::map<std::string, std::vector<SeedRequest>> by_db;
  for (SeedRequest& s : seeds) by_db[s.db->name].push_back(std::move(s));
  for (auto& [name, list] : by_db) {
    asio::post(lookups_, [this, alive = alive_, list = std::move(list)]() {
      if (shutting_down_.load()) return;
      std::vector<std::optional<SystemTime>> results;
      for (const SeedRequest& s : list) {
        std::optional<SystemTime> last;
        try {
          if (last_run_) last = last_run_(*s.db, *s.job);
        } catch (const std::exception& e) {
          spdlog::warn("db={} job={} last run unknown: {}", s.db->name, s.entry_id, e.what());
        } catch (...) {
          spdlog::warn("db={} job={} last run unknown", s.db->name, s.entry_id);
        }
        results.push_back(last);
      }
      asio::post(loop_, [this, alive, list, results = std::move(results)]() {
        if (!alive->load()) return;
        SystemTime now = clock_.Now();
        for (size_t i = 0; i < list.size(); ++i) {
          planner_.Seed(list[i].db->name, list[i].entry_id, results[i], now);
        }
        Pump();
      });
    });
  }
}

void Scheduler::Start() {
  started_ = true;
  stopping_ = false;
  Pump();
}

void Scheduler::Stop(std::function<void()> on_idle) {
  stopping_ = true;
  ++timer_generation_;
  timer_.cancel();
  if (on_idle) idle_callbacks_.push_back(std::move(on_idle));
  PostIdleCallbacksIfIdle();
}

void Scheduler::PostIdleCallbacksIfIdle() {
  if (planner_.running() != 0 || idle_callbacks_.empty()) return;
  for (auto& cb : idle_callbacks_) asio::post(loop_, std::move(cb));
  idle_callbacks_.clear();
}

void Scheduler::Poke() { Pump(); }

size_t Scheduler::running_jobs() const { return static_cast<size_t>(planner_.running()); }

void Scheduler::Pump() {
  if (!started_ || stopping_) return;
  for (Dispatch& d : planner_.TakeDue(clock_.Now())) {
    spdlog::debug("db={} job={} due, starting", d.db_name(), d.entry_id);
    if (on_job_event_) on_job_event_(d.db_name(), d.job->name(), true);
    asio::post(workers_, [this, alive = alive_, d = std::move(d)]() mutable {
      // Every line this run logs on this worker has db and job fields (JSON log format).
      ScopedLogContext log_context(d.db_name(), d.job->name());
      try {
        work_(*d.db, *d.job);
      } catch (const std::exception& e) {
        spdlog::error("db={} job={} threw: {}", d.db_name(), d.entry_id, e.what());
      } catch (...) {
        spdlog::error("db={} job={} threw", d.db_name(), d.entry_id);
      }
      asio::post(loop_, [this, alive, d = std::move(d)]() {
        if (alive->load()) OnFinished(d);
      });
    });
  }
  Arm();
}

void Scheduler::Arm() {
  ++timer_generation_;
  if (!started_ || stopping_) {
    timer_.cancel();
    return;
  }
  Millis delay = kMaxSleep;
  if (std::optional<SystemTime> next = planner_.NextWakeup()) {
    delay = std::clamp(std::chrono::ceil<Millis>(*next - clock_.Now()), Millis(0), kMaxSleep);
  }
  timer_.expires_after(delay);
  timer_.async_wait(
      [this, alive = alive_, generation = timer_generation_](const boost::system::error_code& ec) {
        if (!alive->load() || ec == asio::error::operation_aborted) return;
        if (generation != timer_generation_) return;
        Pump();
      });
}

void Scheduler::OnFinished(const Dispatch& d) {
  planner_.Finished(d, clock_.Now());
  if (on_job_event_) on_job_event_(d.db_name(), d.job->name(), false);
  PostIdleCallbacksIfIdle();
  Pump();
}

}  // namespace maintd
