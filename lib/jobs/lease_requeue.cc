// PLACEHOLDER: replaced by the real job. Fails every run so nothing pretends to work.
#include "lib/jobs/lease_requeue.h"

namespace maintd {
namespace {
class LeaseRequeueJob final : public Job {
 public:
  std::string name() const override { return "lease_requeue"; }
  Result<JobReport> Run(JobContext&) override {
    return Status::Failed("lease_requeue job is not implemented yet");
  }
};
}  // namespace

std::shared_ptr<Job> MakeLeaseRequeueJob(const ResolvedDatabase&, size_t) {
  return std::make_shared<LeaseRequeueJob>();
}

}  // namespace maintd
