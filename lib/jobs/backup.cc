// PLACEHOLDER: replaced by the real job. Fails every run so nothing pretends to work.
#include "lib/jobs/backup.h"

namespace maintd {
namespace {
class BackupJob final : public Job {
 public:
  std::string name() const override { return "backup"; }
  Result<JobReport> Run(JobContext&) override {
    return Status::Failed("backup job is not implemented yet");
  }
};
}  // namespace

std::shared_ptr<Job> MakeBackupJob(const ResolvedDatabase&) {
  return std::make_shared<BackupJob>();
}

}  // namespace maintd
