#pragma once
#include <memory>

#include "lib/jobs/job.h"

namespace maintd {

std::shared_ptr<Job> MakeVacuumJob(const ResolvedDatabase& db);

}  // namespace maintd
