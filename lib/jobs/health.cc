#include "lib/jobs/health.h"

#include "lib/backup/backup_age.h"
#include "lib/jobs/wal_pin.h"

#include <ctime>
#include <filesystem>
#include <optional>

#include "lib/jobs/state_change_log.h"
#include "lib/vacuum/full.h"
#include "lib/vacuum/predict.h"

namespace maintd {
namespace {

// How fresh the integrity gate's quick_check must be for the health job to reuse it.
constexpr auto kReuseGateCheck = std::chrono::minutes(10);

void AddMetric(JobReport& r, std::string name, double value, const char* unit) {
  r.metrics.push_back({std::move(name), value, unit});
}

void AddCheck(JobReport& r, CheckRow row) {
  r.status = Worst(r.status, row.status);
  r.checks.push_back(std::move(row));
}

// quick_check (`full` false) or integrity_check into `r`: its row, its duration metric and
// the verdict the runner acts on (JobReport::integrity).
Status AddIntegrityCheck(JobReport& r, Connection& conn, bool full) {
  auto checked = RunIntegrityCheck(conn, full);
  if (!checked.ok()) return checked.status();
  r.integrity = checked->corrupt ? IntegrityVerdict::kCorrupt : IntegrityVerdict::kSound;
  AddMetric(r, checked->row.check_type + ".duration_ms",
            checked->row.details["duration_ms"].get<double>(), "ms");
  AddCheck(r, std::move(checked->row));
  return Status::Ok();
}

// Summary text of a report made of rows. A row whose condition the state-change log
// reported earlier says since when.
std::string Summarize(const JobReport& r, const StateChangeLog* state = nullptr) {
  std::string bad;
  for (const CheckRow& c : r.checks) {
    if (c.status == HealthStatus::kHealthy) continue;
    bad += (bad.empty() ? "" : ", ") + c.check_type + " " + ToString(c.status);
    std::optional<SystemTime> since = state ? state->Since(c.check_type) : std::nullopt;
    if (since) bad += " (since " + StateChangeLog::FormatUtc(*since) + ")";
  }
  return bad.empty() ? std::to_string(r.checks.size()) + " checks healthy" : bad;
}

// What the vacuum job will do about an auto_vacuum=NONE database (lib/vacuum/convert.h),
// judged with the prediction from the database's own journal tables (this read-only job
// gets no Journal; with a central journal: the default rate).
ConvertDecision NoneConversion(JobContext& ctx, const VacuumPolicy& vacuum, const DbStats& s) {
  int64_t live = LiveBytes(s);
  FullVacuumPrediction pred = ctx.journal != nullptr
                                  ? PredictFullVacuum(ctx.journal, live)
                                  : PredictFullVacuum(&ctx.conn(), ctx.conn().path(), live);
  FullVacuumOptions rules_options;
  rules_options.min_free_disk_factor = vacuum.min_free_disk_factor;
  Status rules = CheckFullVacuumAllowed(ctx.conn().path(), s, rules_options);
  return DecideConversion(vacuum, s, pred, rules, ctx.clock.Now());
}

class HealthJob final : public Job {
 public:
  std::string name() const override { return "health"; }
  std::string journal_key() const override { return "quick_check"; }
  JobTraits traits() const override {
    JobTraits t{DbAccess::kReadOnly, /*proves_integrity=*/true};
    // The quick_check of an unchanged file finds what it found; the checks that move with
    // time without a write are in ChangeProbe (wal_pin needs no probe: a pin matters only
    // while the WAL grows, which is a change).
    t.skips_when_unchanged = true;
    return t;
  }

  // The statuses of the checks that move with time, read without opening the database:
  // a change of any of them makes the skipped run run (and journal its rows).
  std::string ChangeProbe(const ResolvedDatabase& db, const Clock& clock) const override {
    std::string probe;
    auto disk = ReadDiskSpace(db.path);
    probe += "free_disk=";
    probe += disk.ok() ? ToString(FreeDiskCheck(*disk, FileSize(db.path), db.policy.health,
                                                db.policy.vacuum)
                                      .status)
                       : "error";
    auto fs = ReadFilesystem(db.path);
    probe += " filesystem=" + (fs.ok() ? fs->type : std::string("error"));
    if (db.policy.backup.every.count() > 0) {
      probe += " backup_age=";
      const SystemTime now = clock.Now();
      probe += ToString(CheckBackupAge(db, now, backup_wait_since_.value_or(now)).status);
    }
    return probe;
  }

  Result<JobReport> Run(JobContext& ctx) override {
    JobReport report;
    const HealthPolicy& health = ctx.db.policy.health;
    const std::string& path = ctx.conn().path();

    SystemTime now = ctx.clock.Now();
    bool reused = ctx.verified_at && now - *ctx.verified_at < kReuseGateCheck;
    if (reused) {
      // The integrity gate read the whole file moments ago (first contact) and its
      // quick_check row is in the journal already: share it, add no second row.
      report.integrity = IntegrityVerdict::kSound;
    } else {
      MAINTD_RETURN_IF_ERROR(AddIntegrityCheck(report, ctx.conn(), /*full=*/false));
    }

    std::string journal_mode = "unknown";
    auto stats = ReadDbStats(ctx.conn());
    if (stats.ok()) {
      journal_mode = stats->journal_mode;
      AddFragmentation(ctx, report, *stats);
      AddCheck(report, WalSizeCheck(*stats, health));
      AddCheck(report, DbSizeCheck(stats->file_size, stats->wal_size, health));
      AddCheck(report, JournalModeCheck(journal_mode));
      report.figures.freelist_count = stats->freelist_count;
      AddMetric(report, "db.page_count", double(stats->page_count), "pages");
      AddMetric(report, "db.freelist_count", double(stats->freelist_count), "pages");
    } else if (stats.status().code() == StatusCode::kCorrupt) {
      // Header pragmas fail on a badly damaged file: judge what stat() can still see.
      if (report.integrity != IntegrityVerdict::kCorrupt) {
        if (reused) report.checks.insert(report.checks.begin(), {"quick_check", {}, {}});
        CheckRow& qc_row = report.checks.front();
        qc_row.status = HealthStatus::kCritical;
        qc_row.details["result"] = "corrupt";
        qc_row.details["error"] = stats.status().message();
        report.status = HealthStatus::kCritical;
        report.integrity = IntegrityVerdict::kCorrupt;
      }
      DbStats files;
      files.journal_mode = journal_mode;
      files.file_size = FileSize(path);
      files.wal_size = FileSize(path + "-wal");
      AddCheck(report, WalSizeCheck(files, health));
      AddCheck(report, DbSizeCheck(files.file_size, files.wal_size, health));
      stats = files;
    } else {
      return stats.status();
    }
    report.figures.db_bytes = stats->file_size;
    report.figures.wal_bytes = stats->wal_size;
    AddMetric(report, "db.file_bytes", double(stats->file_size), "bytes");
    AddMetric(report, "db.wal_bytes", double(stats->wal_size), "bytes");

    auto disk = ReadDiskSpace(path);
    if (disk.ok()) {
      AddCheck(report, FreeDiskCheck(*disk, stats->file_size, health, ctx.db.policy.vacuum));
      AddMetric(report, "disk.free_bytes", double(disk->free_bytes), "bytes");
    } else {
      AddCheck(report, {"free_disk", HealthStatus::kWarning, {{"error", disk.status().message()}}});
    }
    auto fs = ReadFilesystem(path);
    if (fs.ok()) {
      AddCheck(report, FilesystemCheck(*fs, journal_mode));
    } else {
      AddCheck(report, {"filesystem", HealthStatus::kWarning, {{"error", fs.status().message()}}});
    }
    if (ctx.db.policy.backup.every.count() > 0) {
      if (!backup_wait_since_) backup_wait_since_ = ctx.clock.Now();
      AddCheck(report, CheckBackupAge(ctx.db, ctx.clock.Now(), *backup_wait_since_));
    }
    if (journal_mode == "wal" && report.integrity != IntegrityVerdict::kCorrupt) {
      auto pins = ObserveWalPins(ctx);
      if (pins.ok()) {
        AddCheck(report, WalPinCheck(*pins, health));
        SetWalFigures(report.figures, *pins);
      } else {
        AddCheck(report, {"wal_pin", HealthStatus::kWarning, {{"error", pins.status().message()}}});
      }
    }
    report.summary = Summarize(report, &state_);
    // A sound verdict on this file holds until the file changes (change_tracker.h).
    report.settled = report.integrity == IntegrityVerdict::kSound;
    if (reused) report.summary += " (quick_check: the integrity gate's, moments ago)";
    return report;
  }

 private:
  // The fragmentation row, every run; its warning goes to the log per state change
  // (state_change_log.h) and makes the run a warning only on those runs.
  void AddFragmentation(JobContext& ctx, JobReport& report, const DbStats& s) {
    const VacuumPolicy& vacuum = ctx.db.policy.vacuum;
    std::optional<ConvertDecision> conv;
    if (s.auto_vacuum == 0) conv = NoneConversion(ctx, vacuum, s);
    CheckRow row = FragmentationCheck(s, vacuum, conv ? &*conv : nullptr);
    const std::string prefix = "db=" + ctx.db.name + " health: fragmentation";
    if (row.status == HealthStatus::kHealthy) {
      state_.LogCleared(row.check_type, prefix + " warning cleared");
      AddCheck(report, std::move(row));
      return;
    }
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", 100.0 * s.free_ratio());
    std::string why = row.details.value("why", std::string());
    std::string message = prefix + ": " + std::to_string(s.freelist_count) + " free pages (" +
                          pct + ") on an auto_vacuum=none database the vacuum job does not " +
                          "shrink: " + why;
    if (conv) message += "; " + ConvertByHandHint(ctx.conn().path(), vacuum);
    std::string variant = conv ? ToString(conv->verdict) : "fragmented";
    auto event = state_.Log(row.check_type, variant, spdlog::level::warn, message, ctx.clock);
    if (event != StateChangeLog::Event::kNone) report.status = Worst(report.status, row.status);
    report.checks.push_back(std::move(row));
  }

  // Settings come from each run's JobContext::db (the runner's current ones).
  StateChangeLog state_;  // this job instance's conditions (fragmentation)
  // When this job instance (the daemon's schedule entry: made at start, at the reload that
  // enables backups, for a new tenant) first ran with backups enabled: backup_age's
  // `waiting_since`. Run() is never concurrent.
  std::optional<SystemTime> backup_wait_since_;
};

class IntegrityCheckJob final : public Job {
 public:
  std::string name() const override { return "integrity_check"; }
  JobTraits traits() const override {
    return {DbAccess::kReadOnly, /*proves_integrity=*/true};
  }

  Result<JobReport> Run(JobContext& ctx) override {
    JobReport report;
    MAINTD_RETURN_IF_ERROR(AddIntegrityCheck(report, ctx.conn(), /*full=*/true));
    if (ctx.stop.stop_requested()) {
      report.summary = Summarize(report) + " (foreign_key_check skipped: stopping)";
      return report;
    }
    auto fk = RunForeignKeyCheck(ctx.conn());
    if (!fk.ok()) return fk.status();
    AddMetric(report, "foreign_key_check.duration_ms", fk->details["duration_ms"].get<double>(),
              "ms");
    AddMetric(report, "foreign_key_check.violations", fk->details["violations"].get<double>(),
              "rows");
    AddCheck(report, std::move(*fk));
    report.summary = Summarize(report);
    return report;
  }
};

}  // namespace

std::shared_ptr<Job> MakeHealthJob(const ResolvedDatabase&) {
  return std::make_shared<HealthJob>();
}

std::shared_ptr<Job> MakeIntegrityCheckJob(const ResolvedDatabase&) {
  static const std::shared_ptr<Job> shared = std::make_shared<IntegrityCheckJob>();  // stateless
  return shared;
}

}  // namespace maintd
