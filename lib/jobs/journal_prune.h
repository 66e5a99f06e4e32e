#pragma once
#include <memory>

#include "lib/jobs/job.h"

namespace maintd {

// `journal_prune`: deletes the database's own journal rows past journal_retention (daily).
std::shared_ptr<Job> MakeJournalPruneJob(const ResolvedDatabase& db);

}  // namespace maintd
