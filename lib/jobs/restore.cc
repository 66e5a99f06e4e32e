#include "lib/jobs/restore.h"

namespace maintd {
namespace {

class RestoreJob final : public Job {
 public:
  RestoreJob(std::string backup, RestoreOptions options)
      : backup_(std::move(backup)), options_(std::move(options)) {
    options_.lock_held = true;  // the runner took it
  }
  std::string name() const override { return "restore"; }
  JobTraits traits() const override { return {DbAccess::kReplaces}; }

  Result<JobReport> Run(JobContext& ctx) override {
    RestoreOptions options = options_;
    options.clock = &ctx.clock;
    options.progress = ctx.progress;
    auto result = RestoreBackup(backup_, ctx.db.path, options);
    if (!result.ok()) return result.status();
    JobReport report;
    report.summary = "restored " + backup_ + " into " + ctx.db.path;
    report.output = "restored " + backup_ + " into " + ctx.db.path + " (" +
                    std::to_string(result->bytes) + " bytes, integrity_check " +
                    result->verify_result + ")";
    if (!result->pre_restore_path.empty()) {
      report.output += "\nprevious database kept as " + result->pre_restore_path;
    }
    for (const auto& f : result->forced_past) report.output += "\n--force: ignored: " + f;
    for (const auto& f : result->removed) report.output += "\n--force: removed stale " + f;
    return report;
  }

 private:
  std::string backup_;
  RestoreOptions options_;
};

}  // namespace

std::shared_ptr<Job> MakeRestoreJob(std::string backup_path, RestoreOptions options) {
  return std::make_shared<RestoreJob>(std::move(backup_path), std::move(options));
}

}  // namespace maintd
