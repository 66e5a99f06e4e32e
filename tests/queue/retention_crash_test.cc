// kill -9 of a process running retention with an archive, once while it archives and once
// while it deletes: every row stays in the source or in the archive, byte for byte, the
// archive never holds a row twice, and the next run finishes the work with exact totals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/queue/retention_test_util.h"

namespace maintd {
namespace {

using test::QueryInt;
using test::QueryText;

// count(*) of `table` in `path`, -1 while unreadable (no table yet, locked past 1 s).
int64_t SilentCount(const std::string& path, const std::string& table) {
  return test::SilentQueryInt(path, "SELECT count(*) FROM " + table);
}

class RetentionCrashTest : public test::RetentionFixture {
 protected:
  // Forks a process that runs the job (its own connections, nothing shared with this one),
  // waits for `reached`, and kills it with SIGKILL. Fails if the child ended before that.
  void RunAndKillWhen(const std::function<bool()>& reached) {
    ResolvedDatabase db = test::QueueDb(path_);
    db.retention = {rule_};
    pid_t pid = fork();
    ASSERT_NE(pid, -1);
    if (pid == 0) {
      auto job = MakeRetentionJob(db, 0);
      auto r = test::RunJob(*job, db, clock_);
      _exit(r.ok() ? 0 : 1);
    }
    bool hit = test::WaitFor(reached, std::chrono::seconds(60));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(hit) << "the kill point was never reached";
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the retention run ended before it could be killed: make the table bigger";
    EXPECT_EQ(QueryText(path_, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(QueryText(archive_, "PRAGMA integrity_check"), "ok");
    ExpectNothingLostNothingDuplicated(-1);
  }
};

TEST_F(RetentionCrashTest, KillDuringArchiveAndDuringDeleteLosesAndDuplicatesNothing) {
  CreateEvents(TimeFormat::kUnix, true);
  InsertEvents(18000, 100, "new");    // archived, then deleted
  InsertEvents(2000, 100, "pinned");  // kept
  InsertEvents(3000, 60, "new");      // archived only
  InsertEvents(1000, 10, "new");      // untouched
  const int64_t total = 24000;
  Snapshot();
  UseArchive();
  rule_.keep_where = "status = 'pinned'";
  rule_.batch = 200;
  rule_.pause_between_batches = Millis(10);
  clock_.SetRealSleeps(true);  // real pauses: the run must last long enough to be killed

  // 1. Killed while copying to the archive: some rows archived, none deleted yet.
  RunAndKillWhen([&] { return SilentCount(archive_, "events") >= 4000; });
  int64_t archived_1 = SilentCount(archive_, "events");
  EXPECT_LT(archived_1, 21000);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM events"), total);

  // 2. Killed while deleting: the archive is complete, deletes have begun.
  RunAndKillWhen([&] {
    int64_t n = SilentCount(path_, "events");
    return n >= 0 && n <= total - 4000;
  });
  EXPECT_EQ(SilentCount(archive_, "events"), 21000);
  int64_t remaining = QueryInt(path_, "SELECT count(*) FROM events");
  EXPECT_GT(remaining, total - 18000) << "the delete phase finished before the kill";

  // 3. The next run completes the work: exact totals, nothing lost, nothing twice.
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto d = test::Details(*r);
  EXPECT_EQ(d["archived"], 0);
  EXPECT_EQ(d["deleted"], remaining - (total - 18000));
  EXPECT_EQ(d["archive_conflicts"], 0);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM events"), total - 18000);
  EXPECT_EQ(QueryInt(path_,
                     "SELECT count(*) FROM events WHERE age_days = 100 AND "
                     "status IS NOT 'pinned'"),
            0);
  ExpectNothingLostNothingDuplicated(21000);
}

}  // namespace
}  // namespace maintd
