// PLACEHOLDER: replaced by the real job. Fails every run so nothing pretends to work.
#include "lib/jobs/analyze.h"

namespace maintd {
namespace {
class AnalyzeJob final : public Job {
 public:
  std::string name() const override { return "analyze"; }
  Result<JobReport> Run(JobContext&) override {
    return Status::Failed("analyze job is not implemented yet");
  }
};
}  // namespace

std::shared_ptr<Job> MakeAnalyzeJob(const ResolvedDatabase&) {
  return std::make_shared<AnalyzeJob>();
}

}  // namespace maintd
