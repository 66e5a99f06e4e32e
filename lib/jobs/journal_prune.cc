#include "lib/jobs/journal_prune.h"

namespace maintd {
namespace {

class JournalPruneJob final : public Job {
 public:
  std::string name() const override { return "journal_prune"; }
  JobTraits traits() const override {
    JobTraits t;
    t.seeded_by_oldest_journal_row = true;
    return t;
  }
  Result<JobReport> Run(JobContext& ctx) override {
    JobReport report;
    if (ctx.journal == nullptr) {
      report.summary = "journal not writable; nothing pruned";
      return report;
    }
    auto start = std::chrono::steady_clock::now();
    MAINTD_RETURN_IF_ERROR(ctx.journal->Prune(ctx.db.policy.journal_retention));
    report.summary = "journal pruned";
    report.checks.push_back(
        {"journal_prune", HealthStatus::kHealthy, {{"duration_ms", ElapsedMs(start)}}});
    return report;
  }
};

}  // namespace

std::shared_ptr<Job> MakeJournalPruneJob(const ResolvedDatabase&) {
  static const std::shared_ptr<Job> shared = std::make_shared<JournalPruneJob>();  // stateless
  return shared;
}

}  // namespace maintd
