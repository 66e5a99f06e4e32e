#pragma once
#include <memory>

#include "lib/jobs/job.h"

namespace maintd {

// One job per rule: db.lease_requeue[rule_index].
std::shared_ptr<Job> MakeLeaseRequeueJob(const ResolvedDatabase& db, size_t rule_index);

}  // namespace maintd
