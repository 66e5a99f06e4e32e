// "Work only where something changed" (issue 14) through the one door
// (MaintainedDatabase::Run): an unchanged database is not opened by the checkpoint, the
// vacuum check, health's quick_check or ANALYZE; a database written to is maintained as
// before; the shutdown maintenance skips what is unchanged. Opens are counted by the
// process-wide connection registry (lib/sqlite/open_files.h).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "lib/jobs/analyze.h"
#include "lib/jobs/checkpoint.h"
#include "lib/jobs/health.h"
#include "lib/jobs/maintained_database.h"
#include "lib/jobs/shutdown.h"
#include "lib/jobs/vacuum.h"
#include "lib/sqlite/open_files.h"
#include "tests/support/job_util.h"
#include "tests/support/log_capture.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;

struct Mtime {
  int64_t ns = 0;
  bool operator==(const Mtime& o) const { return ns == o.ns; }
};
Mtime MtimeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

// The application: a separate process holding its own connection open (so the WAL stays
// between our runs) and running the statements the test sends it. Forked without exec:
// create it while this process has no connection open on the database.
class AppProcess {
 public:
  explicit AppProcess(const std::string& db) {
    int to_child[2], to_parent[2];
    if (pipe(to_child) != 0 || pipe(to_parent) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      close(to_child[1]);
      close(to_parent[0]);
      sqlite3* h = nullptr;
      if (sqlite3_open(db.c_str(), &h) != SQLITE_OK) _exit(1);
      sqlite3_busy_timeout(h, 5000);
      FILE* in = fdopen(to_child[0], "r");
      char line[4096];
      while (fgets(line, sizeof line, in) != nullptr) {
        char ok = sqlite3_exec(h, line, nullptr, nullptr, nullptr) == SQLITE_OK ? 'y' : 'n';
        if (write(to_parent[1], &ok, 1) != 1) break;
      }
      _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);
    in_ = to_child[1];
    out_ = to_parent[0];
  }
  ~AppProcess() {
    if (in_ >= 0) close(in_);
    if (out_ >= 0) close(out_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Runs `sql` (one line) in the application; false on error or after 10 s.
  bool Exec(const std::string& sql) {
    std::string line = sql + "\n";
    if (write(in_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return false;
    pollfd p{out_, POLLIN, 0};
    char c = 0;
    return poll(&p, 1, 10000) == 1 && read(out_, &c, 1) == 1 && c == 'y';
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
};

// A database maintained by this process with the default policy, and its four
// change-driven jobs.
// The jobs of a Round() that the files alone prove idle at first contact (a database
// closed cleanly: no WAL frame; few free pages): the checkpoint and the vacuum check.
constexpr int kProvenAtFirstContact = 2;

class SkipUnchanged : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("app.db");
    test::MakeWalDb(path_, 200);
    db_ = test::TestDbEntry(path_);
    MaintainerOptions options;
    options.clock = &clock_;
    auto mdb = MaintainedDatabase::Acquire(db_, options);
    ASSERT_TRUE(mdb.ok()) << mdb.status().ToString();
    mdb_ = std::move(mdb).value();
    jobs_ = {MakeHealthJob(db_), MakeCheckpointJob(db_), MakeVacuumJob(db_), MakeAnalyzeJob(db_)};
  }

  JobOutcome Run(Job& job, JobTrigger trigger = JobTrigger::kScheduled) {
    return mdb_->Run(job, trigger, stop_);
  }
  // One scheduled run of each job; returns how many were skipped as unchanged.
  int Round() {
    int skipped = 0;
    for (auto& job : jobs_) {
      JobOutcome out = Run(*job);
      EXPECT_TRUE(out.error.ok()) << out.job << ": " << out.error.ToString();
      if (out.skip_reason == "unchanged") ++skipped;
    }
    return skipped;
  }
  Job& checkpoint() { return *jobs_[1]; }
  // The shutdown maintenance skips the database, with its one info line, and opens no
  // connection on it.
  void ExpectShutdownSkipsWithoutOpening(const ShutdownConfig& cfg) {
    const int64_t opens = ConnectionsOpenedOn(path_);
    test::CapturedLog log;
    RunShutdownMaintenance({mdb_.get()}, cfg, std::chrono::steady_clock::now() + 20s, stop_);
    EXPECT_EQ(log.Count("shutdown maintenance skipped: unchanged since its last maintenance"), 1)
        << log.text();
    EXPECT_EQ(ConnectionsOpenedOn(path_), opens);
  }

  test::TempDir dir_;
  std::string path_;
  ResolvedDatabase db_;
  FakeClock clock_{std::chrono::system_clock::now()};
  StopToken stop_;
  std::unique_ptr<MaintainedDatabase> mdb_;
  std::vector<std::shared_ptr<Job>> jobs_;
};

TEST_F(SkipUnchanged, AnIdleDatabaseIsNotOpenedOrWrittenAfterTheFirstRound) {
  EXPECT_EQ(Round(), kProvenAtFirstContact)
      << "first contact: health and ANALYZE run for real; the checkpoint (no WAL frame) and "
         "the vacuum check (a current header below the trigger) are proven from the files";
  EXPECT_GT(ConnectionsOpenedOn(path_), 0);
  const int64_t opens = ConnectionsOpenedOn(path_);
  const std::string bytes = test::ReadFile(path_);
  const Mtime mtime = MtimeOf(path_);
  const bool wal = FileExists(path_ + "-wal");

  test::CapturedLog log;
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(5min);
    EXPECT_EQ(Round(), 4) << log.text();
  }
  EXPECT_EQ(ConnectionsOpenedOn(path_), opens) << "no connection was opened";
  EXPECT_EQ(test::ReadFile(path_), bytes);
  EXPECT_TRUE(MtimeOf(path_) == mtime);
  EXPECT_EQ(FileExists(path_ + "-wal"), wal);
  EXPECT_EQ(log.Count("skipped (unchanged)"), 12) << log.text();
  EXPECT_EQ(log.Count("info "), 0) << "unchanged skips log at debug only:\n" << log.text();
}

TEST_F(SkipUnchanged, AnApplicationHoldingTheWalOpenStillSettles) {
  AppProcess app(path_);  // the WAL stays between our runs (not deleted at close)
  ASSERT_TRUE(app.Exec("INSERT INTO items(body) VALUES ('x')"));
  EXPECT_EQ(Round(), 0);
  ASSERT_TRUE(ReadFileSignature(path_).WalHasFrames()) << "our own rows are in the WAL";
  const int64_t opens = ConnectionsOpenedOn(path_);
  EXPECT_EQ(Round(), 4) << "our own journal rows do not count as a change";
  EXPECT_EQ(ConnectionsOpenedOn(path_), opens);
}

TEST_F(SkipUnchanged, ADatabaseWrittenBetweenTwoRunsIsMaintainedAsBefore) {
  AppProcess app(path_);
  ASSERT_TRUE(app.Exec("INSERT INTO items(body) VALUES ('x')"));
  EXPECT_EQ(Round(), 0);
  EXPECT_EQ(Round(), 4);
  ASSERT_TRUE(app.Exec("INSERT INTO items(body) SELECT body FROM items"));  // WAL frames
  const int64_t opens = ConnectionsOpenedOn(path_);
  JobOutcome out = Run(checkpoint());
  EXPECT_EQ(out.skip_reason, "");
  EXPECT_FALSE(out.skipped);
  EXPECT_NE(out.report.output.find("busy=0"), std::string::npos) << out.report.output;
  EXPECT_EQ(out.report.output.find(" checkpointed=0 "), std::string::npos) << out.report.output;
  EXPECT_GT(ConnectionsOpenedOn(path_), opens);
  // The outside write unsettled every job: each runs once more, then all settle again.
  EXPECT_EQ(Round(), 1) << "only the checkpoint, just run, is settled";
  EXPECT_EQ(Round(), 4);
}

TEST_F(SkipUnchanged, TheSkipNeverHidesAGrownWal) {
  AppProcess app(path_);
  ASSERT_TRUE(app.Exec("INSERT INTO items(body) VALUES ('x')"));
  EXPECT_EQ(Round(), 0);
  EXPECT_EQ(Round(), 4);
  for (int i = 0; i < 3; ++i) {
    // A commit right after our last run recorded its signature (the same timestamp tick on
    // a coarse filesystem: FileSignature's tests show size and salts alone catch it).
    ASSERT_TRUE(app.Exec("INSERT INTO items(body) VALUES ('tick')"));
    JobOutcome out = Run(checkpoint());
    EXPECT_NE(out.skip_reason, "unchanged") << "round " << i << ": " << out.report.summary;
    EXPECT_NE(out.report.output.find("busy=0"), std::string::npos) << out.report.output;
  }
}

TEST_F(SkipUnchanged, ASettledJobRunsForRealOnceADay) {
  EXPECT_EQ(Round(), kProvenAtFirstContact);
  EXPECT_EQ(Round(), 4);
  clock_.Advance(25h);
  JobOutcome out = Run(*jobs_[0]);  // health
  EXPECT_EQ(out.skip_reason, "") << out.report.summary;
  EXPECT_EQ(out.report.integrity, IntegrityVerdict::kSound);
  EXPECT_NE(Run(*jobs_[0]).skip_reason, "") << "settled again";
  // ANALYZE is daily: its safety net is a week.
  EXPECT_EQ(Run(*jobs_[3]).skip_reason, "unchanged");
  clock_.Advance(24h * 7);
  EXPECT_EQ(Run(*jobs_[3]).skip_reason, "");
}

TEST_F(SkipUnchanged, CommandsAndOnceAlwaysRun) {
  EXPECT_EQ(Round(), kProvenAtFirstContact);
  EXPECT_EQ(Round(), 4);
  for (JobTrigger t : {JobTrigger::kOnce, JobTrigger::kCommand}) {
    for (auto& job : jobs_) {
      JobOutcome out = Run(*job, t);
      EXPECT_NE(out.skip_reason, "unchanged") << out.job;
    }
  }
}

TEST_F(SkipUnchanged, TheShutdownMaintenanceSkipsAnUnchangedDatabase) {
  EXPECT_EQ(Round(), kProvenAtFirstContact);
  EXPECT_EQ(Round(), 4);
  ShutdownConfig cfg;  // defaults: incremental vacuum, ANALYZE, TRUNCATE checkpoint
  const int64_t opens = ConnectionsOpenedOn(path_);
  ExpectShutdownSkipsWithoutOpening(cfg);

  test::ExecSql(path_, "INSERT INTO items(body) VALUES ('late')");  // changed: maintained
  {
    test::CapturedLog log;
    RunShutdownMaintenance({mdb_.get()}, cfg, std::chrono::steady_clock::now() + 20s, stop_);
    EXPECT_EQ(log.Count("shutdown maintenance skipped"), 0) << log.text();
    EXPECT_EQ(log.Count("job=checkpoint"), 1) << log.text();
  }
  EXPECT_GT(ConnectionsOpenedOn(path_), opens);
}

// The daily ANALYZE waits for its slot at first contact, so a daemon stopped the same day
// never ran it: the shutdown still skips a database nobody wrote to since we first saw it
// (10,000 idle tenants must not cost 10,000 ANALYZEs at SIGTERM), and runs it once a
// write came in.
TEST_F(SkipUnchanged, TheShutdownSkipsANeverRunAnalyzeUntilTheDatabaseChanges) {
  jobs_.pop_back();  // no scheduled ANALYZE in this daemon's life
  EXPECT_EQ(Round(), kProvenAtFirstContact);
  ShutdownConfig cfg;
  ExpectShutdownSkipsWithoutOpening(cfg);

  test::ExecSql(path_, "INSERT INTO items(body) VALUES ('late')");
  Round();  // the write is seen by the next round, which settles again what it can
  {
    test::CapturedLog log;
    RunShutdownMaintenance({mdb_.get()}, cfg, std::chrono::steady_clock::now() + 20s, stop_);
    EXPECT_EQ(log.Count("shutdown maintenance skipped"), 0) << log.text();
    EXPECT_EQ(log.Count("job=analyze"), 1) << log.text();
  }
}

TEST_F(SkipUnchanged, AReloadWithTheSamePolicyKeepsTheSkipANewPolicyRunsAgain) {
  EXPECT_EQ(Round(), kProvenAtFirstContact);
  EXPECT_EQ(Round(), 4);
  mdb_->UpdateDatabase(db_);  // a glob rescan (every minute): the same settings
  EXPECT_EQ(Round(), 4);
  ResolvedDatabase changed = db_;
  changed.policy.vacuum.trigger_free_ratio = 0.05;
  mdb_->UpdateDatabase(changed);  // SIGHUP with a new policy: every job looks again
  EXPECT_EQ(Round(), 2) << "the checkpoint (no WAL frame) and the vacuum check, proven again "
                            "from the header under the new policy; health and ANALYZE run";
}

}  // namespace
}  // namespace maintd
