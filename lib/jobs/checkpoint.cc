// PLACEHOLDER: replaced by the real job. Fails every run so nothing pretends to work.
#include "lib/jobs/checkpoint.h"

namespace maintd {
namespace {
class CheckpointJob final : public Job {
 public:
  std::string name() const override { return "checkpoint"; }
  Result<JobReport> Run(JobContext&) override {
    return Status::Failed("checkpoint job is not implemented yet");
  }
};
}  // namespace

std::shared_ptr<Job> MakeCheckpointJob(const ResolvedDatabase&) {
  return std::make_shared<CheckpointJob>();
}

}  // namespace maintd
