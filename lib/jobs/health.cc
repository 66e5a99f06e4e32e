#include "lib/jobs/health.h"

#include "lib/backup/backup_age.h"
#include "lib/jobs/wal_pin.h"

#include <ctime>
#include <filesystem>
#include <optional>

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

// Status and summary text of a report made of rows.
std::string Summarize(const JobReport& r) {
  std::string bad;
  for (const CheckRow& c : r.checks) {
    if (c.status == HealthStatus::kHealthy) continue;
    bad += (bad.empty() ? "" : ", ") + c.check_type + " " + ToString(c.status);
  }
  return bad.empty() ? std::to_string(r.checks.size()) + " checks healthy" : bad;
}

class HealthJob final : public Job {
 public:
  explicit HealthJob(const ResolvedDatabase& db) : db_(db) {}
  std::string name() const override { return "health"; }
  std::string journal_key() const override { return "quick_check"; }
  JobTraits traits() const override {
    return {DbAccess::kReadOnly, /*proves_integrity=*/true};
  }

  Result<JobReport> Run(JobContext& ctx) override {
    JobReport report;
    const HealthPolicy& health = db_.policy.health;
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
      AddCheck(report, FragmentationCheck(*stats, db_.policy.vacuum));
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
      AddCheck(report, FreeDiskCheck(*disk, stats->file_size, health, db_.policy.vacuum));
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
    if (db_.policy.backup.every.count() > 0) {
      AddCheck(report, CheckBackupAge(db_, ctx.clock.Now()));
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
    report.summary = Summarize(report);
    if (reused) report.summary += " (quick_check: the integrity gate's, moments ago)";
    return report;
  }

 private:
  ResolvedDatabase db_;
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

std::shared_ptr<Job> MakeHealthJob(const ResolvedDatabase& db) {
  return std::make_shared<HealthJob>(db);
}

std::shared_ptr<Job> MakeIntegrityCheckJob(const ResolvedDatabase&) {
  return std::make_shared<IntegrityCheckJob>();
}

}  // namespace maintd
