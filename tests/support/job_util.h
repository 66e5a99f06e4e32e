#pragma once
// Helpers for tests that run one job in-process against a real file: open the connection,
// describe the database, run the job with the real clock and no journal.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "lib/config/config.h"
#include "lib/jobs/job.h"
#include "lib/sqlite/connection.h"
#include "lib/sqlite/stop_token.h"

namespace maintd::test {

// Opens `path` read-write; ADD_FAILURE (and a dead connection) when it cannot.
inline Connection OpenTestDb(const std::string& path,
                             std::chrono::milliseconds busy_timeout = std::chrono::seconds(5)) {
  OpenOptions options;
  options.busy_timeout = busy_timeout;
  auto conn = Connection::Open(path, options);
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return std::move(conn).value();
}

// A database entry with the default policy, as the config resolver would make it.
inline ResolvedDatabase TestDbEntry(const std::string& path, const std::string& name = "app") {
  ResolvedDatabase db;
  db.name = name;
  db.path = path;
  return db;
}

// Runs `job` once as a scheduled run: real clock, no journal, no deadline.
inline Result<JobReport> RunJobOnce(Job& job, const ResolvedDatabase& db, Connection& conn) {
  StopToken stop;
  JobContext ctx{db, &conn, nullptr, RealClock::Instance(), stop, JobTrigger::kScheduled,
                 std::nullopt};
  return job.Run(ctx);
}

}  // namespace maintd::test
