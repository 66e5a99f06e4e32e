// PLACEHOLDER: replaced by the real job. Fails every run so nothing pretends to work.
#include "lib/jobs/health.h"

namespace maintd {
namespace {
class HealthJob final : public Job {
 public:
  std::string name() const override { return "health"; }
  Result<JobReport> Run(JobContext&) override {
    return Status::Failed("health job is not implemented yet");
  }
};
}  // namespace

std::shared_ptr<Job> MakeHealthJob(const ResolvedDatabase&) {
  return std::make_shared<HealthJob>();
}
std::shared_ptr<Job> MakeIntegrityCheckJob(const ResolvedDatabase&) {
  return std::make_shared<HealthJob>();
}

}  // namespace maintd
