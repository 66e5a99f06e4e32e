#include "lib/jobs/backup.h"

#include <spdlog/spdlog.h>

#include "lib/backup/catalog.h"
#include "lib/backup/online_backup.h"
#include "lib/backup/rotation.h"

namespace maintd {
namespace {

class BackupJob final : public Job {
 public:
  explicit BackupJob(BackupJobOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "backup"; }
  JobTraits traits() const override {
    JobTraits t;
    t.beside_maintainer = true;  // a `backup` now, while the daemon maintains the database
    return t;
  }

  Result<JobReport> Run(JobContext& ctx) override {
    const ResolvedDatabase& db = ctx.db;
    BackupOptions opts;
    opts.dir = options_.dest_dir.empty() ? BackupDirFor(db) : options_.dest_dir;
    opts.name = db.name;
    opts.verify = db.policy.backup.verify;
    opts.min_free_disk_factor = db.policy.vacuum.min_free_disk_factor;
    opts.free_bytes = options_.free_bytes;
    if (options_.chunk_bytes > 0) opts.chunk_bytes = options_.chunk_bytes;
    opts.progress = ctx.progress;

    // Leftovers of a crashed run: safe to remove only as the maintainer (beside it, a temp
    // file may be the daemon's backup in progress).
    auto stale = ctx.beside_maintainer
                     ? Result<std::vector<std::string>>(std::vector<std::string>{})
                     : RemoveStaleBackupFiles(opts.dir, db.name, db.path);
    if (stale.ok() && !stale->empty()) {
      spdlog::info("db={} removed {} leftover backup file(s) in {}", db.name, stale->size(),
                   opts.dir);
    }

    auto result = TakeBackup(ctx.conn(), opts, ctx.clock, &ctx.stop, ctx.deadline);
    if (!result.ok()) return result.status();
    const BackupResult& r = *result;

    JobReport report;
    CheckRow row{"backup",
                 HealthStatus::kHealthy,
                 {{"path", r.path},
                  {"bytes", r.bytes},
                  {"pages", r.page_count},
                  {"duration_ms", r.duration_ms},
                  {"copy_ms", r.copy_ms},
                  {"sync_ms", r.sync_ms},
                  {"verify_ms", r.verify_ms},
                  {"verify", r.verify},
                  {"verify_result", r.verify_result},
                  {"journal_mode", r.journal_mode},
                  {"method", r.method}}};
    if (ctx.beside_maintainer) {
      row.details["rotation"] = "left to the maintainer";
    } else if (options_.rotate) {
      auto rotated = RotateBackups(opts.dir, db.name, db.path, db.policy.backup.keep, r.path);
      if (rotated.ok()) {
        row.details["deleted"] = rotated->deleted.size();
        report.figures.backups_deleted = static_cast<int64_t>(rotated->deleted.size());
        row.details["kept"] = rotated->kept;
        if (!rotated->unverified.empty()) {
          row.details["unverified"] = rotated->unverified.size();
        }
      } else {
        // The new backup is good; failing to delete old ones is worth a warning only.
        row.status = HealthStatus::kWarning;
        row.details["rotation_error"] = rotated.status().message();
      }
    }
    report.status = row.status;
    double mb = static_cast<double>(r.bytes) / (1 << 20);
    double secs = static_cast<double>(std::max<int64_t>(r.duration_ms, 1)) / 1000.0;
    report.summary =
        fmt::format("backup {} ({:.1f} MiB, {:.1f} MiB/s, copy {} ms, verify {} {} ms)", r.path, mb,
                    mb / secs, r.copy_ms, r.verify, r.verify_ms);
    report.checks.push_back(std::move(row));
    report.output = r.path;
    report.metrics = {{"backup.duration_ms", static_cast<double>(r.duration_ms), "ms"},
                      {"backup.copy_ms", static_cast<double>(r.copy_ms), "ms"},
                      {"backup.verify_ms", static_cast<double>(r.verify_ms), "ms"},
                      {"backup.bytes", static_cast<double>(r.bytes), "bytes"},
                      {"backup.pages", static_cast<double>(r.page_count), "pages"}};
    return report;
  }

 private:
  BackupJobOptions options_;
};

}  // namespace

std::shared_ptr<Job> MakeBackupJob(const ResolvedDatabase& db) {
  return MakeBackupJob(db, BackupJobOptions{});
}

std::shared_ptr<Job> MakeBackupJob(const ResolvedDatabase&, BackupJobOptions options) {
  return std::make_shared<BackupJob>(std::move(options));
}

}  // namespace maintd
