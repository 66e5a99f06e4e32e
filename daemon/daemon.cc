#include "daemon/daemon.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>

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

void Daemon::ScheduleWatchdog() {
  auto interval = WatchdogPingInterval();
  if (!interval) return;
  NotifyWatchdog();
  watchdog_timer_.expires_after(*interval);
  watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) ScheduleWatchdog();
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
