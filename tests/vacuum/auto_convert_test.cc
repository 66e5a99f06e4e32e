// convert_auto_vacuum: auto (the default) on auto_vacuum=NONE databases, through the real
// binary with a real writer process, and the vacuum job's warnings per state change.
#include <signal.h>

#include <gtest/gtest.h>

#include <cstdio>

#include "lib/jobs/vacuum.h"
#include "lib/jobs/vacuum_plan.h"
#include "tests/support/log_capture.h"
#include "tests/vacuum/vacuum_test_util.h"

namespace maintd::test {
namespace {

using std::chrono::seconds;

// ~40 MB, 99% of its pages free, ~0.4 MB of live rows: like the real application's 214 MiB
// file of 99.8% free pages. Predicted at the default rate: ~290 ms, within 500 ms.
const FragmentedDbSpec kMostlyFree{
    .rows = 40000, .row_bytes = 1000, .delete_up_to = 39600, .auto_vacuum = "NONE"};
// ~8 MB, 75% free: past the trigger (free ratio and min_free_pages).
const FragmentedDbSpec kSmallNone{
    .rows = 8000, .row_bytes = 1000, .delete_up_to = 6000, .auto_vacuum = "NONE"};

std::string WriteConfig(const TempDir& dir, const std::string& body) {
  std::string path = dir.File("config.yaml");
  WriteFile(path, "http: { listen: \"\" }\n" + body);
  return path;
}

TEST(AutoConvert, DefaultPolicyShrinksAMostlyFreeNoneDatabaseUnderAWriter) {
  TempDir dir;
  std::string db = dir.File("app.db");
  CopyDb(TemplateDb("mostly_free", kMostlyFree), db);
  ASSERT_EQ(QueryInt(db, "PRAGMA auto_vacuum"), 0);
  const int64_t size_before = FileSize(db);
  const int64_t rows_before = QueryInt(db, "SELECT count(*) FROM items");

  Writer writer(db, dir.path(), 5);
  ASSERT_TRUE(writer.WaitForCommits(50, seconds(10)));
  // No config file at all: every vacuum key at its default (convert_auto_vacuum: auto).
  auto r = RunMaintd({"once", "--job", "vacuum", db}, {{"SQLITE_MAINTD_CONFIG", ""}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("converted to auto_vacuum=incremental"), std::string::npos) << r.out;
  // In WAL mode the file shrinks at the checkpoint that ends the run (or, if the writer kept
  // it busy, at the writer's next autocheckpoint).
  EXPECT_TRUE(WaitFor([&] { return FileSize(db) < size_before / 10; }, seconds(30)))
      << FileSize(db) << " of " << size_before;
  // The writer goes on committing into the converted database.
  const int64_t committed = SilentQueryInt(db, "SELECT count(*) FROM writer_rows");
  EXPECT_TRUE(writer.WaitForCommits(static_cast<int>(committed) + 50, seconds(10)));
  auto summary = writer.Stop();

  EXPECT_EQ(QueryInt(db, "PRAGMA auto_vacuum"), 2);  // incremental from now on
  EXPECT_EQ(summary["errors"], 0) << summary.dump();
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM items"), rows_before);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM writer_rows"), summary["commits"].get<int64_t>());
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
  auto rows = VacuumLog(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].type, "full");
  EXPECT_EQ(rows[0].status, "completed");
  std::printf("[ writer   ] conversion of a %.1f MB file (99%% free) took %lld ms; writer: %lld "
              "commits, max commit %.1f ms, p99 %.1f ms; file now %.1f MB\n",
              size_before / 1e6, static_cast<long long>(rows[0].duration_ms),
              static_cast<long long>(summary["commits"].get<int64_t>()),
              summary["max_ms"].get<double>(), summary["p99_ms"].get<double>(),
              FileSize(db) / 1e6);
  RecordProperty("writer_max_commit_ms", std::to_string(summary["max_ms"].get<double>()));
}

TEST(AutoConvert, TooLongAStallLeavesTheDatabaseAloneWithOneLogLine) {
  TempDir dir;
  std::string db = dir.File("app.db");
  std::string journal = dir.File("journal.db");  // nothing at all is written to app.db
  CopyDb(TemplateDb("small_none", kSmallNone), db);
  const std::string bytes_before = ReadFile(db);
  // No ANALYZE either (it would add sqlite_stat1): the daemon has nothing to write here.
  std::string config = WriteConfig(dir, "journal: " + journal +
                                            "\n"
                                            "shutdown: { analyze: false }\n"
                                            "defaults:\n"
                                            "  analyze: { daily_at: off }\n"
                                            "  vacuum: { check_every: 300ms, "
                                            "max_full_vacuum_stall: 1ms }\n"
                                            "databases:\n"
                                            "  - name: app\n"
                                            "    path: " +
                                            db + "\n");
  ChildProcess daemon({MaintdBinary(), "--config", config, "run"}, {}, dir.path());
  const std::string runs = "SELECT count(*) FROM sqlite_health_checks WHERE check_type='vacuum'";
  ASSERT_TRUE(WaitFor([&] { return SilentQueryInt(journal, runs) >= 5; }, seconds(60)))
      << daemon.Stderr();
  daemon.Signal(SIGTERM);
  ASSERT_EQ(daemon.Wait(seconds(30)), 0) << daemon.Stderr();

  const std::string log = daemon.Stderr();
  EXPECT_EQ(CountOf(log, kLeftAloneText), 1) << log;
  // The line says why (the estimate against the bound) and how to convert by hand.
  size_t at = log.find(kLeftAloneText);
  ASSERT_NE(at, std::string::npos);
  std::string line = log.substr(at, log.find('\n', at) - at);
  EXPECT_NE(line.find("predicted to hold the write lock"), std::string::npos) << line;
  EXPECT_NE(line.find("above max_full_vacuum_stall 1ms"), std::string::npos) << line;
  EXPECT_NE(line.find("sqlite-maintd vacuum --full " + db), std::string::npos) << line;
  EXPECT_NE(line.find("convert_auto_vacuum: true"), std::string::npos) << line;
  // Five or more runs; only the first is a warning in the log. Every run has its row.
  EXPECT_GE(CountOf(log, "job=vacuum status="), 5) << log;
  EXPECT_EQ(CountOf(log, "job=vacuum status=warning"), 1) << log;
  EXPECT_GE(QueryInt(journal, runs + " AND status='warning'"), 5);
  EXPECT_LE(CountOf(log, "health: fragmentation:"), 1) << log;
  // Left alone: not a byte of the file changed.
  EXPECT_EQ(QueryInt(db, "PRAGMA auto_vacuum"), 0);
  EXPECT_TRUE(ReadFile(db) == bytes_before) << "app.db changed";
}

// In process, on a FakeClock: the condition is logged when it appears, again an hour later
// while it stays, and once when it clears (here: converted by hand).
TEST(AutoConvert, VacuumJobLogsTheNoneConditionPerStateChange) {
  TempDir dir;
  std::string db = dir.File("app.db");
  CopyDb(TemplateDb("small_none", kSmallNone), db);
  VacuumPolicy policy;
  policy.max_full_vacuum_stall = Millis(1);
  FakeClock clock(std::chrono::system_clock::now());
  MaintainerOptions options;
  options.clock = &clock;
  auto acquired = MaintainedDatabase::Acquire(Resolved(db, policy), options);
  ASSERT_TRUE(acquired.ok()) << acquired.status().ToString();
  MaintainedDatabase& mdb = **acquired;
  CapturedLog captured;
  StopToken stop;
  auto job = MakeVacuumJob(mdb.db());
  std::vector<HealthStatus> statuses;
  for (int run = 0; run < 4; ++run) {  // every 15 min
    statuses.push_back(mdb.Run(*job, JobTrigger::kScheduled, stop).status);
    clock.Advance(std::chrono::minutes(15));
  }
  EXPECT_EQ(captured.Count(kLeftAloneText), 1) << captured.text();
  EXPECT_EQ(statuses, (std::vector<HealthStatus>{HealthStatus::kWarning, HealthStatus::kHealthy,
                                                 HealthStatus::kHealthy, HealthStatus::kHealthy}));
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_health_checks WHERE check_type='vacuum' "
                         "AND status='warning'"),
            4);  // the journal keeps one row per run
  JobOutcome hour_later = mdb.Run(*job, JobTrigger::kScheduled, stop);
  EXPECT_EQ(hour_later.status, HealthStatus::kWarning);
  EXPECT_EQ(captured.Count(kLeftAloneText), 2) << captured.text();
  EXPECT_EQ(captured.Count("(unchanged since "), 1) << captured.text();

  auto by_hand = MakeVacuumCommandJob(mdb.db(), {.method = VacuumCommand::kFull});
  JobOutcome converted = mdb.Run(*by_hand, JobTrigger::kCommand, stop);
  ASSERT_TRUE(converted.error.ok()) << converted.error.ToString();
  EXPECT_EQ(QueryInt(db, "PRAGMA auto_vacuum"), 2);
  mdb.Run(*job, JobTrigger::kScheduled, stop);
  mdb.Run(*job, JobTrigger::kScheduled, stop);
  EXPECT_EQ(captured.Count("auto_vacuum=none condition cleared: auto_vacuum is now incremental"), 1)
      << captured.text();
  EXPECT_EQ(captured.Count(kLeftAloneText), 2) << captured.text();
}

TEST(VacuumCommand, AutoConvertsWithinTheBoundElseRefusesWithTheEstimateAndTheHint) {
  TempDir dir;
  std::string small = dir.File("small.db");
  CopyDb(TemplateDb("small_none", kSmallNone), small);
  // ~8 MB of live data: predicted ~1 s at the default rate, above the default 500ms bound
  // (small.db: ~2 MB, ~440 ms).
  std::string bigger = dir.File("bigger.db");
  MakeFragmentedDb(bigger, {.rows = 10000, .row_bytes = 1000, .delete_up_to = 2000,
                            .auto_vacuum = "NONE"});
  std::string config = WriteConfig(dir, "");  // every vacuum key at its default

  auto ok = RunMaintd({"--config", config, "vacuum", small});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("auto_vacuum=incremental"), std::string::npos) << ok.out;
  EXPECT_EQ(QueryInt(small, "PRAGMA auto_vacuum"), 2);

  const int64_t pages = QueryInt(bigger, "PRAGMA page_count");
  auto refused = RunMaintd({"--config", config, "vacuum", bigger});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("predicted to hold the write lock"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("above max_full_vacuum_stall 500ms"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("sqlite-maintd vacuum --full " + bigger), std::string::npos)
      << refused.err;
  EXPECT_EQ(QueryInt(bigger, "PRAGMA page_count"), pages);
  EXPECT_EQ(QueryInt(bigger, "PRAGMA auto_vacuum"), 0);

  // The hint works: --full converts under auto whatever the prediction.
  auto full = RunMaintd({"--config", config, "vacuum", "--full", bigger});
  EXPECT_EQ(full.exit_code, 0) << full.out << full.err;
  EXPECT_EQ(QueryInt(bigger, "PRAGMA auto_vacuum"), 2);
}

}  // namespace
}  // namespace maintd::test
