#include "lib/jobs/health.h"

#include <ctime>
#include <filesystem>
#include <optional>

namespace maintd {
namespace {

void AddMetric(JobReport& r, std::string name, double value, const char* unit) {
  r.metrics.push_back({std::move(name), value, unit});
}

void AddCheck(JobReport& r, CheckRow row) {
  r.status = Worst(r.status, row.status);
  r.checks.push_back(std::move(row));
}

// "20261122T030000Z" -> time point; nullopt when malformed.
std::optional<SystemTime> ParseCompactStamp(const std::string& s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (s[i] < '0' || s[i] > '9')) return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = std::stoi(s.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(s.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(s.substr(6, 2));
  tm.tm_hour = std::stoi(s.substr(9, 2));
  tm.tm_min = std::stoi(s.substr(11, 2));
  tm.tm_sec = std::stoi(s.substr(13, 2));
  return std::chrono::system_clock::from_time_t(timegm(&tm));
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

  Result<JobReport> Run(JobContext& ctx) override {
    JobReport report;
    const HealthPolicy& health = db_.policy.health;
    const std::string& path = ctx.conn.path();

    auto qc = RunIntegrityCheck(ctx.conn, /*full=*/false);
    if (!qc.ok()) return qc.status();
    report.found_corruption = qc->corrupt;
    AddMetric(report, "quick_check.duration_ms", qc->row.details["duration_ms"].get<double>(),
              "ms");
    AddCheck(report, std::move(qc->row));

    std::string journal_mode = "unknown";
    auto stats = ReadDbStats(ctx.conn);
    if (stats.ok()) {
      journal_mode = stats->journal_mode;
      AddCheck(report, FragmentationCheck(*stats, db_.policy.vacuum));
      AddCheck(report, WalSizeCheck(*stats, health));
      AddCheck(report, DbSizeCheck(stats->file_size, stats->wal_size, health));
      AddCheck(report, JournalModeCheck(journal_mode));
      AddMetric(report, "db.page_count", double(stats->page_count), "pages");
      AddMetric(report, "db.freelist_count", double(stats->freelist_count), "pages");
    } else if (stats.status().code() == StatusCode::kCorrupt) {
      // Header pragmas fail on a badly damaged file: judge what stat() can still see.
      if (!report.found_corruption) {
        CheckRow& qc_row = report.checks.front();
        qc_row.status = HealthStatus::kCritical;
        qc_row.details["result"] = "corrupt";
        qc_row.details["error"] = stats.status().message();
        report.status = HealthStatus::kCritical;
        report.found_corruption = true;
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
    if (db_.policy.backup.every.count() > 0) AddCheck(report, BackupAgeCheck(db_, ctx.clock.Now()));
    report.summary = Summarize(report);
    return report;
  }

 private:
  ResolvedDatabase db_;
};

class IntegrityCheckJob final : public Job {
 public:
  std::string name() const override { return "integrity_check"; }

  Result<JobReport> Run(JobContext& ctx) override {
    JobReport report;
    auto ic = RunIntegrityCheck(ctx.conn, /*full=*/true);
    if (!ic.ok()) return ic.status();
    report.found_corruption = ic->corrupt;
    AddMetric(report, "integrity_check.duration_ms", ic->row.details["duration_ms"].get<double>(),
              "ms");
    AddCheck(report, std::move(ic->row));
    if (ctx.stop.stop_requested()) {
      report.summary = Summarize(report) + " (foreign_key_check skipped: stopping)";
      return report;
    }
    auto fk = RunForeignKeyCheck(ctx.conn);
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

CheckRow BackupAgeCheck(const ResolvedDatabase& db, SystemTime now) {
  const BackupPolicy& policy = db.policy.backup;
  std::string dir = policy.dir.empty() ? DirName(db.path) + "/backups" : policy.dir;
  std::string name = db.name.empty() ? FileStem(db.path) : db.name;
  std::optional<SystemTime> newest;
  std::string newest_path;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string file = entry.path().filename().string();
    // <name>-<16-char stamp>.db
    if (file.size() != name.size() + 1 + 16 + 3 || file.compare(0, name.size(), name) != 0 ||
        file[name.size()] != '-' || file.compare(file.size() - 3, 3, ".db") != 0) {
      continue;
    }
    auto t = ParseCompactStamp(file.substr(name.size() + 1, 16));
    if (t && (!newest || *t > *newest)) {
      newest = t;
      newest_path = entry.path().string();
    }
  }
  CheckRow row{"backup_age", HealthStatus::kHealthy, {{"dir", dir}}};
  row.details["backup_every_ms"] = policy.every.count();
  if (!newest) {
    row.status = HealthStatus::kWarning;
    row.details["note"] = "no backup found";
    return row;
  }
  auto age = std::chrono::duration_cast<std::chrono::seconds>(now - *newest);
  row.details["newest"] = newest_path;
  row.details["age_s"] = age.count();
  if (age > 2 * policy.every) {
    row.status = HealthStatus::kWarning;
    row.details["note"] = "newest backup is older than twice backup.every";
  }
  return row;
}

std::shared_ptr<Job> MakeHealthJob(const ResolvedDatabase& db) {
  return std::make_shared<HealthJob>(db);
}

std::shared_ptr<Job> MakeIntegrityCheckJob(const ResolvedDatabase&) {
  return std::make_shared<IntegrityCheckJob>();
}

}  // namespace maintd
