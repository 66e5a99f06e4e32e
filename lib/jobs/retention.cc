// PLACEHOLDER: replaced by the real job. Fails every run so nothing pretends to work.
#include "lib/jobs/retention.h"

namespace maintd {
namespace {
class RetentionJob final : public Job {
 public:
  std::string name() const override { return "retention"; }
  Result<JobReport> Run(JobContext&) override {
    return Status::Failed("retention job is not implemented yet");
  }
};
}  // namespace

std::shared_ptr<Job> MakeRetentionJob(const ResolvedDatabase&, size_t) {
  return std::make_shared<RetentionJob>();
}

}  // namespace maintd
