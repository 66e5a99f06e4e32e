#pragma once
// Helpers for the queue job tests: build a ResolvedDatabase with rules and run one job the
// way the runner does (a fresh read-write connection registered with a stop token).

#include <gtest/gtest.h>

#include <string>

#include "lib/config/config.h"
#include "lib/jobs/job.h"
#include "lib/sqlite/connection.h"

namespace maintd::test {

inline ResolvedDatabase QueueDb(const std::string& path) {
  ResolvedDatabase db;
  db.name = "q";
  db.path = path;
  return db;
}

inline Result<JobReport> RunJob(Job& job, const ResolvedDatabase& db, const Clock& clock,
                                StopToken* stop = nullptr) {
  auto conn = Connection::Open(db.path, OpenOptions{});
  if (!conn.ok()) return conn.status();
  StopToken own;
  StopToken& token = stop ? *stop : own;
  ScopedInterruptible guard(token, *conn);
  JobContext ctx{db, &*conn, nullptr, clock, token, JobTrigger::kOnce, std::nullopt};
  return job.Run(ctx);
}

// The details JSON of the job's single check row.
inline nlohmann::json Details(const JobReport& report) {
  EXPECT_EQ(report.checks.size(), 1u);
  return report.checks.empty() ? nlohmann::json::object() : report.checks[0].details;
}

}  // namespace maintd::test
