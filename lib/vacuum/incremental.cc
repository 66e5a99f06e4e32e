#include "lib/vacuum/incremental.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "lib/inspect/db_stats.h"
#include "lib/sqlite/pause.h"
#include "lib/sqlite/statement.h"
#include "lib/sqlite/transaction.h"
#include "lib/vacuum/busy_timeout_cap.h"
#include "lib/vacuum/post_checkpoint.h"

namespace maintd {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A PASSIVE checkpoint after this many freed pages (each dirties 2-3 pages, so a few hundred
// WAL frames): it keeps the WAL under the applications' autocheckpoint threshold (1000
// frames by default), so their commits do not pay for checkpointing the vacuum's frames,
// without restarting the WAL (an fsync of its header in the next commit) after every step.
constexpr int64_t kCheckpointEveryPages = 256;

// Steps aim at this share of max_lock_hold: the rest absorbs the commit's variance (a WAL
// restart fsyncs the WAL header) and being descheduled mid-step on a busy machine.
constexpr double kTargetShareOfBudget = 0.6;

double MicrosSince(SteadyClock::time_point t) {
  return std::chrono::duration<double, std::micro>(SteadyClock::now() - t).count();
}

struct StepResult {
  Status status;
  int64_t pages = 0;
  bool reached_done = false;  // the freelist is empty
  double hold_us = 0;         // BEGIN IMMEDIATE acquired -> COMMIT returned
  double work_us = 0;         // stepping only
  double commit_us = 0;
};

// One BEGIN IMMEDIATE ... COMMIT freeing up to `want` pages, stepping one page at a time
// and stopping early when `work + expected commit` reaches `target_us`.
StepResult RunStep(Connection& conn, int64_t want, double target_us, double commit_est_us) {
  StepResult r;
  auto tx = Transaction::BeginImmediate(conn);
  if (!tx.ok()) {
    r.status = tx.status();
    return r;
  }
  auto locked = SteadyClock::now();
  {
    auto stmt = conn.Prepare("PRAGMA incremental_vacuum(" + std::to_string(want) + ")");
    if (!stmt.ok()) {
      r.status = stmt.status();
      return r;  // ~Transaction rolls back
    }
    while (r.pages < want) {
      auto row = stmt->Step();
      if (!row.ok()) {
        r.status = row.status();
        return r;
      }
      if (!*row) {
        r.reached_done = true;
        break;
      }
      ++r.pages;
      if (MicrosSince(locked) + commit_est_us >= target_us) break;
    }
    // Resetting a partly stepped incremental_vacuum keeps the pages it moved; the
    // statement must be finished before COMMIT.
  }
  r.work_us = MicrosSince(locked);
  auto commit_start = SteadyClock::now();
  r.status = tx->Commit();
  r.commit_us = MicrosSince(commit_start);
  r.hold_us = MicrosSince(locked);
  if (!r.status.ok()) r.pages = 0;  // rolled back by ~Transaction
  return r;
}

bool PastDeadline(const IncrementalOptions& o, const Clock& clock) {
  return o.deadline.has_value() && clock.SteadyNow() >= *o.deadline;
}

// Per-connection settings changed for the run, restored by the destructor.
class ConnectionSettings {
 public:
  ConnectionSettings(Connection& conn, bool wal) : conn_(conn) {
    auto sync = conn.QueryInt("PRAGMA synchronous");
    auto ckpt = conn.QueryInt("PRAGMA wal_autocheckpoint");
    if (sync.ok()) sync_ = *sync;
    if (ckpt.ok()) autockpt_ = *ckpt;
    if (wal && sync_ > 1) (void)conn.Exec("PRAGMA synchronous=NORMAL");
    // Our commits never run autocheckpoints inside the measured lock hold; we checkpoint
    // between steps instead.
    (void)conn.Exec("PRAGMA wal_autocheckpoint=0");
  }
  ~ConnectionSettings() {
    if (sync_ >= 0) (void)conn_.Exec("PRAGMA synchronous=" + std::to_string(sync_));
    if (autockpt_ >= 0) {
      (void)conn_.Exec("PRAGMA wal_autocheckpoint=" + std::to_string(autockpt_));
    }
  }

 private:
  Connection& conn_;
  int64_t sync_ = -1;
  int64_t autockpt_ = -1;
};

}  // namespace

IncrementalOutcome RunIncrementalVacuum(Connection& conn, const IncrementalOptions& o,
                                        StopToken& stop, const Clock& clock) {
  auto start = SteadyClock::now();
  IncrementalOutcome out;
  auto stats = ReadDbStats(conn);
  if (!stats.ok()) {
    out.status = stats.status();
    return out;
  }
  out.page_size = stats->page_size;
  out.freelist_before = stats->freelist_count;
  out.file_size_before = stats->file_size;
  bool wal = stats->journal_mode == "wal";
  const uint64_t to_free = static_cast<uint64_t>(
      o.max_pages > 0 ? std::min(o.max_pages, out.freelist_before) : out.freelist_before);
  ReportProgress(o.progress, "incremental", 0, to_free, "pages");
  {
    ConnectionSettings settings(conn, wal);
    const double budget_us = std::max<double>(1000.0, o.max_lock_hold.count() * 1000.0);
    const double target_us = budget_us * kTargetShareOfBudget;
    const int64_t max_batch = std::max<int64_t>(1, o.pages_per_step);
    int64_t n = std::min(max_batch, kProbePages);
    double commit_est_us = 0;
    int64_t pages_since_checkpoint = 0;
    while (true) {
      if (stop.stop_requested() || PastDeadline(o, clock)) {
        out.stopped_early = true;
        out.status =
            Status::Interrupted(stop.stop_requested() ? "stop requested" : "deadline reached");
        break;
      }
      int64_t want = n;
      if (o.max_pages > 0) want = std::min(want, o.max_pages - out.pages_freed);
      // Under a deadline, BEGIN IMMEDIATE may wait for the lock only until the deadline.
      std::optional<BusyTimeoutCap> cap;
      if (o.deadline) cap.emplace(conn, *o.deadline);
      StepResult s = RunStep(conn, want, target_us, commit_est_us);
      cap.reset();
      if (!s.status.ok()) {
        out.status = s.status;
        break;
      }
      spdlog::trace(
          "vacuum step {}: asked {} freed {} pages, work {:.0f} us, commit {:.0f} us, "
          "lock hold {:.0f} us (commit estimate {:.0f} us)",
          out.steps + 1, want, s.pages, s.work_us, s.commit_us, s.hold_us, commit_est_us);
      ++out.steps;
      out.pages_freed += s.pages;
      out.largest_step_pages = std::max(out.largest_step_pages, s.pages);
      out.max_lock_hold_ms = std::max(out.max_lock_hold_ms, s.hold_us / 1000.0);
      ReportProgress(o.progress, "incremental", static_cast<uint64_t>(out.pages_freed), to_free,
                     "pages");
      if (s.reached_done || s.pages == 0) break;
      if (o.max_pages > 0 && out.pages_freed >= o.max_pages) break;

      // Commit cost: follow increases at once, decreases slowly.
      commit_est_us = std::max(s.commit_us, 0.5 * commit_est_us + 0.5 * s.commit_us);
      double per_page_us = std::max(1.0, s.work_us / static_cast<double>(s.pages));
      double ideal = (target_us - commit_est_us) / per_page_us;
      int64_t next = static_cast<int64_t>(std::max(1.0, ideal));
      n = std::clamp<int64_t>(next, 1, std::min(max_batch, std::max(kProbePages, n * 2)));

      pages_since_checkpoint += s.pages;
      if (wal && o.checkpoint && pages_since_checkpoint >= kCheckpointEveryPages) {
        (void)PassiveCheckpoint(conn);
        pages_since_checkpoint = 0;
      }
      // Ended early on a stop or the deadline: the loop head reports why.
      if (!PauseUnlessStopped(stop, clock, o.pause_between_steps, o.deadline)) continue;
    }
  }
  // Stopped early (daemon stopping, shutdown share used up): the shutdown's own checkpoint
  // follows, so do not spend its time here.
  if (wal && o.checkpoint && !stop.stop_requested() && !PastDeadline(o, clock)) {
    auto ck = CheckpointAfterVacuum(conn, o.max_lock_hold, stop, clock, o.deadline);
    out.checkpoint_busy = !ck.ok() || ck->busy;
  }
  auto freelist = conn.QueryInt("PRAGMA freelist_count");
  out.freelist_after = freelist.ok() ? *freelist : -1;
  out.file_size_after = FileSize(conn.path());
  out.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
  return out;
}

}  // namespace maintd
