// PLACEHOLDER: replaced by the real job. Fails every run so nothing pretends to work.
#include "lib/jobs/vacuum.h"

namespace maintd {
namespace {
class VacuumJob final : public Job {
 public:
  std::string name() const override { return "vacuum"; }
  Result<JobReport> Run(JobContext&) override {
    return Status::Failed("vacuum job is not implemented yet");
  }
};
}  // namespace

std::shared_ptr<Job> MakeVacuumJob(const ResolvedDatabase&) {
  return std::make_shared<VacuumJob>();
}

}  // namespace maintd
