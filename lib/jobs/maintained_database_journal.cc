// MaintainedDatabase's journal side (maintained_database.h): the read-write journal and its
// orphan repair, the rows a locked database could not take (kept and written before the
// next ones), and LastRun()'s cached read of the last runs. Same class, same locks.
#include <spdlog/spdlog.h>

#include "lib/inspect/db_stats.h"

#include "lib/jobs/maintained_database.h"

namespace maintd {

namespace {

// How long a journal write waits while the database is known locked (this run met it busy,
// or an earlier write failed busy): the rows are kept and retried anyway.
constexpr Millis kLockedJournalWait{100};
// The most rows kept for a locked database (a day of one-minute busy skips is far fewer).
constexpr size_t kMaxUnwrittenRows = 1000;
// How long LastRun()'s cache serves when no Run() clears it first (a reload long after the
// start reads the journal again).
constexpr Millis kLastRunsFor = std::chrono::minutes(1);

}  // namespace

std::unique_ptr<Journal> MaintainedDatabase::OpenJournalForWrite() {
  auto journal = Journal::Open(path_, options_->journal, *options_->clock);
  if (!journal.ok()) {
    spdlog::warn("db={} journal unavailable: {}", path_, journal.status().ToString());
    return nullptr;
  }
  bool repair;
  {
    std::lock_guard lock(mu_);
    repair = !orphans_repaired_ && lock_.has_value();  // beside: the rows are not orphans
    orphans_repaired_ = true;
  }
  if (repair) {
    // Holding the maintainer lock, no other maintainer is alive: `running` rows are orphans.
    auto repaired = (*journal)->RepairOrphans();
    if (repaired.ok() && *repaired > 0) {
      spdlog::warn("db={} marked {} orphaned running vacuum row(s) failed", path_, *repaired);
    } else if (!repaired.ok()) {
      spdlog::warn("db={} could not repair orphaned journal rows: {}", path_,
                   repaired.status().ToString());
    }
  }
  return std::move(journal).value();
}

std::optional<SystemTime> MaintainedDatabase::LastRun(const Job& job) const {
  std::lock_guard lock(last_runs_mu_);
  auto now = std::chrono::steady_clock::now();
  if (!last_runs_ || now - last_runs_read_ > kLastRunsFor) {
    if (!options_->journal.central_path.empty() && !FileExists(options_->journal.central_path)) {
      // No journal yet: nothing on record (a journal-age job has no row to wait for).
      if (job.traits().seeded_by_oldest_journal_row) return options_->clock->Now();
      return std::nullopt;
    }
    auto journal = Journal::Open(path_, options_->journal, *options_->clock, JournalAccess::kRead);
    if (!journal.ok()) return std::nullopt;
    auto runs = (*journal)->LastRuns();
    if (!runs.ok()) return std::nullopt;
    last_runs_ = std::move(runs).value();
    last_runs_read_ = now;
  }
  auto it = last_runs_->find(job.journal_key());
  if (it == last_runs_->end() && job.traits().seeded_by_oldest_journal_row) {
    it = last_runs_->find(Journal::kOldestRow);
    // No row at all yet: every row to come is younger than now.
    if (it == last_runs_->end()) return options_->clock->Now();
  }
  return it == last_runs_->end() ? std::nullopt : std::optional<SystemTime>(it->second);
}

MaintainedDatabase::~MaintainedDatabase() {
  std::lock_guard lock(mu_);
  if (!unwritten_rows_.empty()) {
    spdlog::warn("db={} {} journal row(s) not written: the database stayed locked", db_->name,
                 unwritten_rows_.size());
  }
}

void MaintainedDatabase::WriteRows(const std::string& job, std::unique_ptr<Journal>& journal,
                                   const std::vector<CheckRow>& checks,
                                   const std::vector<MetricRow>& metrics, bool under_deadline,
                                   bool run_was_busy) {
  std::vector<TimedCheckRow> rows;
  {
    std::lock_guard lock(mu_);
    rows.swap(unwritten_rows_);
  }
  const bool locked_before = !rows.empty();
  const SystemTime now = options_->clock->Now();
  for (const CheckRow& row : checks) rows.push_back({row, now});
  if (rows.empty() && metrics.empty()) return;
  bool central = !options_->journal.central_path.empty();
  // A database found corrupt is not written at all, journal rows included (CONTRACT.md
  // section 4), unless the journal is elsewhere.
  if (gate_.known_corrupt() && !central) return;
  if (!journal) journal = OpenJournalForWrite();
  if (!journal) return;
  if (under_deadline) {
    journal->LimitWriteWait(kDeadlineJournalWait, Millis(0));
  } else if (locked_before || (run_was_busy && !central)) {
    journal->LimitWriteWait(std::min(kLockedJournalWait, settings()->policy.busy_timeout),
                            Millis(0));
  }
  Status s = journal->RecordTimedChecks(rows);
  if (s.busy()) {
    size_t dropped = rows.size() > kMaxUnwrittenRows ? rows.size() - kMaxUnwrittenRows : 0;
    rows.erase(rows.begin(), rows.begin() + dropped);
    spdlog::info("db={} job={} journal locked: {} row(s) kept for the next write{}",
                 settings()->name, job, rows.size(),
                 dropped ? " (" + std::to_string(dropped) + " oldest dropped)" : "");
    std::lock_guard lock(mu_);
    unwritten_rows_ = std::move(rows);
    return;
  }
  if (s.ok()) s = journal->RecordMetrics(metrics);
  if (!s.ok())
    spdlog::warn("db={} job={} journal write failed: {}", settings()->name, job, s.ToString());
}

}  // namespace maintd
