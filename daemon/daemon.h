#pragma once
// The long-running daemon: owns the io_context, the signal set, the scheduler, the
// maintained databases (each with its maintainer lock) and sd_notify.
//
// Threads: the loop thread runs the io_context (signals, timers, scheduler bookkeeping);
// it never runs SQLite work. The scheduler's worker pool runs jobs. One control thread runs
// the other blocking work: acquiring databases (lock, journal, orphan repair), config
// reload, glob rescans and the shutdown maintenance. `dbs_` is shared between them under
// `mu_`.
//
// Signals: SIGTERM/SIGINT start the graceful shutdown of CONTRACT.md section 5; a second one
// aborts (interrupts SQLite work, which rolls back). SIGHUP reloads the config file: a valid
// one replaces the old one, an invalid one is logged and the old one kept.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/commands.h"
#include "daemon/http_server.h"
#include "daemon/malloc_tuning.h"
#include "daemon/metrics.h"
#include "lib/core/asio.h"
#include "lib/jobs/maintained_database.h"
#include "lib/schedule/scheduler.h"
#include "lib/sqlite/stop_token.h"

namespace maintd {

class Daemon {
 public:
  // `cli_dbs`: database paths given to `run` (maintained with the default policy, in
  // addition to the configured ones).
  Daemon(CommandEnv& env, Config config, std::vector<std::string> cli_dbs);
  ~Daemon();

  // Runs until shutdown; returns the process exit code (0 after a graceful shutdown, 128 +
  // signal after one aborted by a second SIGTERM/SIGINT: 143/130).
  int Run();

  // For the HTTP endpoints: true once the config is loaded and every database opened, false
  // again during shutdown.
  bool ready() const { return ready_.load(); }

 private:
  void OnSignal(int signal_number);
  void BeginShutdown();
  void Abort();
  void Reload();
  // Control thread: resolves `config` (+ cli dbs), acquires new databases, drops removed
  // ones; then hands the set to the scheduler on the loop thread. `resolved_already`: the
  // databases of `config`, when the caller has just resolved them.
  void ApplyConfig(Config config, bool initial,
                   std::optional<std::vector<ResolvedDatabase>> resolved_already = std::nullopt);
  void ScheduleRescan();
  void ScheduleWatchdog();
  // Listens on http.listen (loop thread, before the scheduler starts). An error only when
  // http.listen was given in the config file (see Config::http_listen_given).
  Status StartHttp();
  void SetReady(bool ready);
  MaintainerOptions OptionsFor(const Config& config, const ResolvedDatabase& db);
  // Control thread: MaintainedDatabase::Acquire for each of `dbs`, several at once; the
  // results in the order of `dbs`.
  std::vector<Result<std::unique_ptr<MaintainedDatabase>>> AcquireAll(
      const Config& config, const std::vector<std::shared_ptr<const ResolvedDatabase>>& dbs);
  Result<std::vector<ResolvedDatabase>> ResolveAll(const Config& config);
  std::shared_ptr<MaintainedDatabase> Find(const std::string& path);

  CommandEnv& env_;
  Config config_;  // loop thread
  std::vector<std::string> cli_dbs_;
  asio::io_context loop_;
  asio::signal_set signals_;
  asio::steady_timer rescan_timer_;
  asio::steady_timer watchdog_timer_;
  asio::steady_timer deadline_timer_;
  asio::steady_timer exit_timer_;
  asio::thread_pool control_{1};
  Metrics metrics_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<Scheduler> scheduler_;
  // Thread-safe themselves (stop_token.h), used from every thread:
  StopToken job_stop_;       // scheduled jobs: RequestStop at SIGTERM, Abort at deadline
  StopToken shutdown_stop_;  // shutdown maintenance: Abort at the deadline
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<MaintainedDatabase>> dbs_;  // by path, under mu_
  std::atomic<bool> ready_{false};
  bool stopping_ = false;  // loop thread
  size_t maintained_count_ = 0;  // loop thread: databases maintained, for the burst below
  ReleaseAfterBurst release_after_burst_;  // thread-safe itself (malloc_tuning.h)
  int abort_exit_code_ = 0;  // loop thread; 128 + signal after a second signal, else 0
  // Written by the loop thread before it posts the shutdown work that reads it (the post
  // orders the two), never written again.
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace maintd
