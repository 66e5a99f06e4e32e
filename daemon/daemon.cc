#include "daemon/daemon.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include <spdlog/spdlog.h>

#include "daemon/config_yaml.h"
#include "daemon/malloc_tuning.h"
#include "daemon/systemd_notify.h"
#include "lib/config/resolve.h"
#include "lib/core/log_context.h"
#include "lib/inspect/db_stats.h"
#include "lib/jobs/shutdown.h"
#include "lib/queue/schema_check.h"

namespace maintd {

namespace {

// A thousand databases each hold a lock file open: lift the soft fd limit to the hard one.
void RaiseFileLimit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// Taking over a database is a few file-system calls (create or open its lock file, flock,
// write our pid): ~0.4 ms each on a busy disk, so 10,000 tenants one after another held
// /readyz back 4 s. They are independent and wait on the file system, not the CPU: take
// them over on several threads, one per this many databases, at most kAcquireThreads.
constexpr size_t kAcquireThreads = 8;
constexpr size_t kAcquirePerThread = 64;

// How long after the deadline the process may still take before it exits regardless
// (CONTRACT.md section 5: exit no later than the deadline plus one second).
constexpr std::chrono::milliseconds kExitGrace{800};

}  // namespace

Daemon::Daemon(CommandEnv& env, Config config, std::vector<std::string> cli_dbs)
    : env_(env),
      config_(std::move(config)),
      cli_dbs_(std::move(cli_dbs)),
      signals_(loop_, SIGTERM, SIGINT, SIGHUP),
      rescan_timer_(loop_),
      watchdog_timer_(loop_),
      deadline_timer_(loop_),
      exit_timer_(loop_) {}

Daemon::~Daemon() {
  scheduler_.reset();
  control_.join();
}

Result<std::vector<ResolvedDatabase>> Daemon::ResolveAll(const Config& config) {
  auto configured = ResolveDatabases(config);
  if (!configured.ok()) return configured.status();
  std::vector<ResolvedDatabase> all = std::move(configured).value();
  if (!cli_dbs_.empty()) {
    auto extra = DatabasesFromPaths(config, cli_dbs_);
    if (!extra.ok()) return extra.status();
    for (auto& db : *extra) {
      bool dup = false;
      for (const auto& have : all) dup = dup || have.path == db.path;
      if (!dup) all.push_back(std::move(db));
    }
  }
  for (const auto& db : all) {
    if ((db.lease_requeue.empty() && db.retention.empty()) || !FileExists(db.path)) continue;
    Status s = CheckRulesAgainstSchema(db);
    if (!s.ok()) {
      std::string source = config.source.empty() ? "(embedded default)" : config.source;
      return Status::Config(source + ": " + s.message());
    }
  }
  return all;
}

std::shared_ptr<MaintainedDatabase> Daemon::Find(const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = dbs_.find(path);
  return it == dbs_.end() ? nullptr : it->second;
}

void Daemon::ApplyConfig(Config config, bool initial,
                         std::optional<std::vector<ResolvedDatabase>> resolved_already) {
  auto resolved = resolved_already ? Result<std::vector<ResolvedDatabase>>(std::move(*resolved_already))
                                   : ResolveAll(config);
  if (!resolved.ok()) {
    spdlog::error("{}; keeping the {} configuration", resolved.status().message(),
                  initial ? "embedded" : "previous");
    if (initial) {
      asio::post(loop_, [this, s = resolved.status()] {
        env_.exit_code = ExitCodeFor(s);
        loop_.stop();
      });
    }
    return;
  }
  // One shared copy of each database's settings: its MaintainedDatabase, the scheduler's
  // entries and its jobs' runs all point at it (10,000 tenants: one copy each, not three).
  std::vector<std::shared_ptr<const ResolvedDatabase>> active;
  std::map<std::string, std::shared_ptr<MaintainedDatabase>> next;
  size_t held_elsewhere = 0;  // refused because another maintainer holds the lock
  std::string holder;         // the first such refusal's message
  std::vector<std::shared_ptr<const ResolvedDatabase>> fresh;
  for (ResolvedDatabase& db : *resolved) {
    auto existing = Find(db.path);
    if (!existing) {
      fresh.push_back(std::make_shared<const ResolvedDatabase>(std::move(db)));
      continue;
    }
    std::shared_ptr<const ResolvedDatabase> settings = existing->settings();
    if (!(*settings == db)) {
      settings = std::make_shared<const ResolvedDatabase>(std::move(db));
      existing->UpdateDatabase(settings);
    }
    next[settings->path] = existing;
    active.push_back(std::move(settings));
  }
  auto acquired = AcquireAll(config, fresh);
  for (size_t i = 0; i < fresh.size(); ++i) {
    const ResolvedDatabase& db = *fresh[i];
    ScopedLogContext log_context(db.name);  // the db field of the lines below (JSON format)
    if (!acquired[i].ok()) {
      // Busy, locked by another maintainer, missing: tried again at the next rescan.
      spdlog::error("db={} not maintained: {}", db.name, acquired[i].status().ToString());
      if (acquired[i].status().code() == StatusCode::kLockHeld) {
        if (held_elsewhere++ == 0) holder = acquired[i].status().message();
      }
      continue;
    }
    spdlog::info("db={} maintaining {}", db.name, db.path);
    next[db.path] = std::shared_ptr<MaintainedDatabase>(std::move(acquired[i]).value());
    active.push_back(fresh[i]);
  }
  size_t expected = resolved->size();
  asio::post(loop_, [this, config = std::move(config), next = std::move(next),
                     active = std::move(active), expected, initial, held_elsewhere,
                     holder = std::move(holder)]() mutable {
    if (stopping_) return;
    {
      std::lock_guard lock(mu_);
      // Dropped databases: their lock is released once a job still running there ends.
      for (const auto& [path, db] : dbs_) {
        if (next.count(path) == 0) {
          spdlog::info("db={} dropped (no longer configured or matched): {}", db->settings()->name, path);
        }
      }
      dbs_ = std::move(next);
    }
    config_ = std::move(config);
    size_t count = active.size();
    maintained_count_ = count;
    metrics_.SetDetail(config_.http_metrics);
    metrics_.SetDatabases(active);
    scheduler_->SetDatabases(std::move(active));
    bool all_open = count == expected;
    bool was_ready = ready_.load();
    SetReady(all_open);
    metrics_.SetDatabasesMaintained(count);
    std::string status = "maintaining " + std::to_string(count) + " database(s)";
    if (!all_open) status += ", " + std::to_string(expected - count) + " not opened (see the log)";
    // systemd's READY=1 goes out once the first pass is done even when some database could
    // not be taken over (held by another maintainer, unreadable): otherwise one stale lock
    // would fail the whole unit's start and stop the maintenance of all the others. /readyz
    // keeps saying 503 until every database is open.
    if (initial || (!was_ready && all_open)) {
      NotifyReady(status);
    } else {
      NotifyStatus(status);
    }
    if (count == 0 && held_elsewhere > 0) {
      spdlog::warn("no databases maintained: {} of {} held by another daemon or command ({}); "
                   "it maintains them; this daemon tries again at every rescan "
                   "(glob_rescan_every)",
                   held_elsewhere, expected, holder);
    } else if (count == 0) {
      spdlog::warn("no databases to maintain (give paths or configure databases:)");
    }
    ScheduleRescan();
    // The previous lists and schedule entries were freed just now, on this thread.
    asio::post(control_, [] { ReleaseFreeMemory(); });
  });
}

std::vector<Result<std::unique_ptr<MaintainedDatabase>>> Daemon::AcquireAll(
    const Config& config, const std::vector<std::shared_ptr<const ResolvedDatabase>>& dbs) {
  // The options depend on a few settings only: databases that agree on them share one
  // copy (a glob of 10,000 tenants: one).
  std::map<std::tuple<int64_t, int64_t, bool>, std::shared_ptr<const MaintainerOptions>> shared;
  std::vector<std::shared_ptr<const MaintainerOptions>> options;
  options.reserve(dbs.size());
  for (const auto& db : dbs) {
    auto key = std::make_tuple(db->policy.busy_timeout.count(),
                               db->policy.health.quick_check_every.count(), db->create_missing);
    auto& slot = shared[key];
    if (!slot) slot = std::make_shared<const MaintainerOptions>(OptionsFor(config, *db));
    options.push_back(slot);
  }
  std::vector<std::optional<Result<std::unique_ptr<MaintainedDatabase>>>> slots(dbs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < dbs.size(); i = next++) {
      slots[i].emplace(MaintainedDatabase::Acquire(dbs[i], options[i]));
    }
  };
  size_t threads = std::min(kAcquireThreads, dbs.size() / kAcquirePerThread);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  std::vector<Result<std::unique_ptr<MaintainedDatabase>>> out;
  out.reserve(dbs.size());
  for (auto& slot : slots) out.push_back(std::move(*slot));
  return out;
}

// Depends on `db` only through the settings AcquireAll keys its sharing on.
MaintainerOptions Daemon::OptionsFor(const Config& config, const ResolvedDatabase& db) {
  MaintainerOptions options = env_.MaintainerOptionsFor(config, db);
  // The hourly health job keeps the integrity verdict fresh for the writers between its
  // runs; without it, a writer checks again once the last result is an hour old.
  options.recent_check =
      std::max<Millis>(std::chrono::hours(1), db.policy.health.quick_check_every) +
      std::chrono::minutes(15);
  options.on_outcome = [this](const ResolvedDatabase& d, const JobOutcome& outcome) {
    metrics_.Record(d, outcome);
  };
  return options;
}

void Daemon::SetReady(bool ready) {
  ready_ = ready;
  metrics_.SetReady(ready);
}

Status Daemon::StartHttp() {
  if (config_.http_listen.empty()) return Status::Ok();
  http_ = std::make_unique<HttpServer>(
      loop_, HttpHandlers{[this] { return ready_.load(); },
                          [this]() -> BodyPieces {
                            std::shared_ptr cursor = metrics_.StartExposition();
                            return [cursor](std::string& out, size_t bytes) {
                              return cursor->Next(out, bytes);
                            };
                          }});
  Status s = http_->Listen(config_.http_listen);
  if (!s.ok()) {
    http_.reset();
    std::string hint = s.code() == StatusCode::kBusy
                           ? " (another process may listen there: ss -ltnp; set another "
                             "http.listen, or \"\" to run without HTTP)"
                           : "";
    if (config_.http_listen_given) {
      // Asked for: probes and scrapes depend on it, so not listening is a startup error.
      return Status(s.code(), config_.source + ": http.listen: " + s.message() + hint);
    }
    // The default address, not asked for (e.g. a second `run app.db` beside a daemon):
    // maintenance goes on without the endpoints, loudly.
    spdlog::warn("HTTP disabled: default http.listen: {}{}", s.message(), hint);
    return Status::Ok();
  }
  spdlog::info("http listening on {} (port {}): /healthz /readyz /metrics", config_.http_listen,
               http_->port());
  return Status::Ok();
}

void Daemon::ScheduleRescan() {
  if (config_.glob_rescan_every.count() <= 0) return;
  rescan_timer_.expires_after(config_.glob_rescan_every);
  rescan_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    asio::post(control_, [this, config = config_] {
      auto resolved = ResolveAll(config);
      bool unchanged = false;
      if (resolved.ok()) {
        std::lock_guard lock(mu_);
        unchanged = resolved->size() == dbs_.size() &&
                    std::all_of(resolved->begin(), resolved->end(),
                                [&](const ResolvedDatabase& db) { return dbs_.count(db.path); });
      }
      if (unchanged) {
        // The same config and every database still there and held: the schedule and the
        // series stand. Applying 10,000 unchanged databases again each minute cost ~25 MiB
        // of short-lived copies (the daemon's peak) and their CPU.
        std::vector<ResolvedDatabase>().swap(*resolved);  // freed first: the release below
        ReleaseFreeMemory();  // returns it too, and what the job runs of the last minute freed
        release_after_burst_.Released();
        asio::post(loop_, [this] {
          if (!stopping_) ScheduleRescan();
        });
        return;
      }
      ApplyConfig(config, false,
                  resolved.ok() ? std::optional(std::move(resolved).value()) : std::nullopt);
    });
  });
}

void Daemon::ScheduleWatchdog() {
  auto interval = WatchdogPingInterval();
  if (!interval) return;
  NotifyWatchdog();
  watchdog_timer_.expires_after(*interval);
  watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) ScheduleWatchdog();
  });
}

void Daemon::Reload() {
  std::string path = env_.ConfigPath();
  if (path.empty()) {
    spdlog::warn("SIGHUP: no config file to reload (running on the embedded default)");
    return;
  }
  NotifyReloading();
  asio::post(control_, [this, path] {
    auto config = LoadConfigFile(path);
    if (!config.ok()) {
      spdlog::error("SIGHUP: {}; keeping the previous configuration", config.status().message());
      NotifyStatus("reload failed; previous configuration kept");
      return;
    }
    spdlog::info("SIGHUP: reloading configuration from {}", path);
    ApplyConfig(std::move(config).value(), false);
  });
}

void Daemon::OnSignal(int signal_number) {
  if (signal_number == SIGHUP) {
    if (!stopping_) Reload();
    return;
  }
  if (!stopping_) {
    spdlog::info("signal {}: graceful shutdown (deadline {})", signal_number,
                 FormatDuration(config_.shutdown.deadline));
    BeginShutdown();
  } else {
    // Exit 128 + signal (130, 143), not 0: supervisors can tell an aborted shutdown from a
    // clean one.
    abort_exit_code_ = 128 + signal_number;
    spdlog::warn("second signal {}: aborting now (exit {})", signal_number, abort_exit_code_);
    Abort();
  }
}

void Daemon::BeginShutdown() {
  stopping_ = true;
  SetReady(false);
  NotifyStopping();
  rescan_timer_.cancel();
  deadline_ = std::chrono::steady_clock::now() + config_.shutdown.deadline;
  job_stop_.RequestStop();
  deadline_timer_.expires_at(deadline_);
  deadline_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    spdlog::warn("shutdown deadline reached: interrupting what still runs");
    job_stop_.Abort();
    shutdown_stop_.Abort();
  });
  exit_timer_.expires_at(deadline_ + kExitGrace);
  exit_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    // SQLite work that ignores interrupts (VACUUM's copy-back) is as safe to leave as a
    // SIGKILL: the database stays intact. The contract's exit time wins.
    spdlog::error("shutdown still not finished after the deadline; exiting now");
    spdlog::default_logger()->flush();
    _exit(abort_exit_code_);
  });
  scheduler_->Stop([this] {
    std::vector<std::shared_ptr<MaintainedDatabase>> held;
    {
      std::lock_guard lock(mu_);
      for (auto& [path, db] : dbs_) held.push_back(db);
    }
    asio::post(control_, [this, held = std::move(held), cfg = config_.shutdown] {
      std::vector<MaintainedDatabase*> dbs;
      for (const auto& db : held) dbs.push_back(db.get());
      RunShutdownMaintenance(dbs, cfg, deadline_, shutdown_stop_);
      asio::post(loop_, [this] {
        spdlog::info("shutdown complete");
        loop_.stop();
      });
    });
  });
}

void Daemon::Abort() {
  job_stop_.Abort();
  shutdown_stop_.Abort();
  auto soon = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  if (soon < exit_timer_.expiry()) {
    exit_timer_.expires_at(soon);
    exit_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      spdlog::default_logger()->flush();
      _exit(abort_exit_code_);
    });
  }
}

int Daemon::Run() {
  RaiseFileLimit();
  KeepLargeBuffersMmapped();
  // Validate before anything starts: a bad config exits 78 at once.
  auto initial = ResolveAll(config_);
  if (!initial.ok()) {
    spdlog::error("{}", initial.status().message());
    std::fprintf(stderr, "sqlite-maintd: %s\n", initial.status().message().c_str());
    return ExitCodeFor(initial.status());
  }
  // Before any database is touched: an http.listen that cannot be bound exits 75 (in use:
  // systemd's Restart= tries again) or 78 (not an IP, not permitted: fix the config).
  if (Status http = StartHttp(); !http.ok()) {
    spdlog::error("{}", http.message());
    std::fprintf(stderr, "sqlite-maintd: %s\n", http.message().c_str());
    return ExitCodeFor(http);
  }
  // First runs are spread over up to 50 ms per database (at most 5 s), so a thousand
  // databases never start together while one database starts at once.
  Millis start_jitter = std::min<Millis>(Millis(5000), Millis(50) * initial->size());
  scheduler_ = std::make_unique<Scheduler>(
      loop_, RealClock::Instance(), static_cast<int>(config_.max_concurrent_jobs),
      [this](const ResolvedDatabase& db, Job& job) {
        auto maintained = Find(db.path);
        if (!maintained) return;  // dropped by a reload or rescan
        maintained->Run(job, JobTrigger::kScheduled, job_stop_);
      },
      [this](const ResolvedDatabase& db, const Job& job) -> std::optional<SystemTime> {
        auto maintained = Find(db.path);
        return maintained ? maintained->LastRun(job) : std::nullopt;  // read-only
      },
      start_jitter);
  // STATUS= lines at most once a second: sd_notify sends on the loop thread, and a
  // thousand databases must not flood (or block on) the notify socket.
  scheduler_->OnJobEvent([this, last = std::chrono::steady_clock::time_point{}](
                             const std::string& db, const std::string& job, bool started) mutable {
    metrics_.SetTaskRunning(db, job, started);
    if (!started) {
      std::optional<SystemTime> next = scheduler_->planner().NextWakeup();
      const bool nothing_due = !next || *next > RealClock::Instance().Now();
      if (release_after_burst_.RunFinished(maintained_count_, nothing_due)) {
        asio::post(control_, [] { ReleaseFreeMemory(); });
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(1)) return;
    last = now;
    if (started) NotifyStatus("running " + job + " on " + db);
    else NotifyStatus("idle; " + std::to_string(scheduler_->running_jobs()) + " job(s) running");
  });
  // Keep listening: every signal after the first also arrives here.
  std::function<void()> listen;
  listen = [this, &listen] {
    signals_.async_wait([this, &listen](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      OnSignal(sig);
      listen();
    });
  };
  listen();
  scheduler_->Start();
  ScheduleWatchdog();
  // The first pass takes the databases just resolved (a glob over 10,000 files is ~0.3 s).
  asio::post(control_, [this, config = config_, dbs = std::move(initial).value()]() mutable {
    ApplyConfig(config, true, std::move(dbs));
  });
  spdlog::info("sqlite-maintd started (pid {})", getpid());
  loop_.run();
  if (http_) http_->Close();
  watchdog_timer_.cancel();
  scheduler_.reset();
  control_.join();
  {
    std::lock_guard lock(mu_);
    dbs_.clear();
  }
  return abort_exit_code_ != 0 ? abort_exit_code_ : env_.exit_code;
}

}  // namespace maintd
