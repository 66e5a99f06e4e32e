// The daemon's databases (daemon.h): resolving the configured entries, taking over the new
// ones, applying a configuration (start, SIGHUP reload, glob rescan) to the scheduler and
// the metrics. Same class as daemon.cc; the threads each function runs on are in daemon.h.
#include <algorithm>
#include <map>
#include <thread>
#include <tuple>

#include <spdlog/spdlog.h>

#include "daemon/config_yaml.h"
#include "daemon/daemon.h"
#include "daemon/malloc_tuning.h"
#include "daemon/systemd_notify.h"
#include "lib/config/resolve.h"
#include "lib/core/log_context.h"
#include "lib/inspect/db_stats.h"
#include "lib/queue/schema_check.h"

namespace maintd {

namespace {

// Taking over a database is a few file-system calls (create or open its lock file, flock,
// write our pid): ~0.4 ms each on a busy disk, so 10,000 tenants one after another held
// /readyz back 4 s. They are independent and wait on the file system, not the CPU: take
// them over on several threads, one per this many databases, at most kAcquireThreads.
constexpr size_t kAcquireThreads = 8;
constexpr size_t kAcquirePerThread = 64;

}  // namespace

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

}  // namespace maintd
