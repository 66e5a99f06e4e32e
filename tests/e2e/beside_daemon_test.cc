// One-shot commands while `sqlite-maintd run` maintains the same database (issue 12):
// `backup` works beside the daemon (rotation left to it); the commands that need the
// maintainer lock exit 75 with a message that says what to do.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

using std::chrono::seconds;

// The lock file's first line is the holder's pid (lib/core/maintainer_lock.h).
bool HeldBy(const std::string& db, pid_t pid) {
  std::string text = ReadFile(db + "-maintd.lock");
  return text.rfind(std::to_string(pid) + "\n", 0) == 0;
}

TEST(BesideDaemonE2E, BackupSucceedsWhileTheDaemonMaintainsTheDatabase) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 2000);
  std::string config = dir.File("c.yaml");
  WriteFile(config, "http: { listen: \"\" }\ndefaults: { checkpoint: { every: 1s } }\n"
                    "databases:\n  - path: " + db + "\n");
  Writer writer(db, dir.path(), 5);  // the application keeps writing throughout
  ASSERT_TRUE(writer.WaitForCommits(10, seconds(10)));
  ChildProcess daemon({MaintdBinary(), "--config", config, "run"}, {}, dir.path());
  ASSERT_TRUE(WaitFor([&] { return HeldBy(db, daemon.pid()); }, seconds(20))) << daemon.Stderr();

  auto backup = RunMaintd({"--config", config, "backup", db});
  ASSERT_EQ(backup.exit_code, 0) << backup.out << backup.err;
  std::string path = Trim(backup.out);
  ASSERT_TRUE(std::filesystem::exists(path)) << backup.out;
  EXPECT_EQ(QueryText(path, "PRAGMA quick_check"), "ok");
  EXPECT_GT(QueryInt(path, "SELECT count(*) FROM items"), 0);
  EXPECT_NE(backup.err.find("beside"), std::string::npos) << backup.err;
  // The daemon still holds the database and keeps running its jobs.
  EXPECT_TRUE(HeldBy(db, daemon.pid()));
  EXPECT_TRUE(daemon.Running());

  // A command that needs the lock exits 75 and says what to do.
  auto vacuum = RunMaintd({"--config", config, "vacuum", db});
  EXPECT_EQ(vacuum.exit_code, 75) << vacuum.out << vacuum.err;
  EXPECT_NE(vacuum.err.find("pid " + std::to_string(daemon.pid())), std::string::npos)
      << vacuum.err;
  EXPECT_NE(vacuum.err.find("stop the daemon first"), std::string::npos) << vacuum.err;
  EXPECT_NE(vacuum.err.find("backup DB` works beside it"), std::string::npos) << vacuum.err;

  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(25)), 0) << daemon.Stderr();
  nlohmann::json summary = writer.Stop();
  EXPECT_EQ(summary["errors"], 0) << summary.dump();
  // The backup's row is in the journal like the daemon's own.
  EXPECT_GE(QueryInt(db, "SELECT count(*) FROM sqlite_health_checks WHERE check_type='backup' "
                         "AND status='healthy' AND details->>'path' = '" + path + "'"),
            1);
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace maintd::test
