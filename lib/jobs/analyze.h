#pragma once
#include <memory>

#include "lib/jobs/job.h"

namespace maintd {

std::shared_ptr<Job> MakeAnalyzeJob(const ResolvedDatabase& db);

}  // namespace maintd
