// kill -9 at random points of every destructive job, run by the real binary
// (`sqlite-maintd once --job X`, `vacuum --full`, `backup`, `restore`) while a separate
// writer process commits numbered rows. After each kill: integrity_check is ok, every row
// the writer saw committed is there, the retention archive holds no duplicate and loses
// nothing, and the next start (`once --job health`) marks an orphaned `running` vacuum row
// failed ("daemon stopped during run").
//
// Each job is first run once to completion to measure its duration T; each iteration then
// kills it after a uniformly random delay in [0, T). MAINTD_CRASH_ITERATIONS sets the
// iterations per job (default 5), MAINTD_CRASH_SEED the random seed (printed).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <thread>

#include "tests/reliability/reliability_util.h"

namespace maintd::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
namespace fs = std::filesystem;

std::mt19937_64& Rng() {
  static std::mt19937_64 rng = [] {
    const char* env = std::getenv("MAINTD_CRASH_SEED");
    uint64_t seed = env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
    std::printf("[ crash    ] MAINTD_CRASH_SEED=%llu\n", static_cast<unsigned long long>(seed));
    return std::mt19937_64(seed);
  }();
  return rng;
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("app.db");
    config_ = dir_.File("c.yaml");
    iterations_ = CrashIterations(5);
  }
  void TearDown() override {
    EXPECT_GT(killed_, 0) << "no kill landed while the job ran";
    std::printf(
        "[ crash    ] %s: %d kills, %d mid-run (%d finished first), %d orphaned "
        "running rows repaired, T=%lld ms, writer max %.1f ms\n",
        name_.c_str(), runs_, killed_, runs_ - killed_, orphans_repaired_,
        static_cast<long long>(duration_.count()), max_writer_ms_);
  }

  std::vector<std::string> Cmd(std::vector<std::string> args) const {
    args.insert(args.begin(), {MaintdBinary(), "--config", config_});
    return args;
  }

  // Runs `args` to completion, measuring T (the kill window). It must succeed. A fast
  // machine (a Release build on an idle CI box) can finish the job in a few tens of ms:
  // while T < 200 ms and `grow` is given, scale_ doubles (up to 8) and grow() makes the
  // job that much bigger, then T is measured again.
  void Calibrate(const std::vector<std::string>& args, const std::function<void()>& grow = {}) {
    while (true) {
      auto start = steady_clock::now();
      ChildProcess p(Cmd(args), {}, dir_.path());
      int code = p.Wait(seconds(120));
      duration_ = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
      ASSERT_EQ(code, 0) << p.Stdout() << p.Stderr();
      if (duration_.count() >= 200 || !grow || scale_ >= 8) break;
      scale_ *= 2;
      grow();
    }
    ASSERT_GT(duration_.count(), 20) << "too fast to kill mid-way: make the job bigger";
  }

  // Starts `args` and SIGKILLs it after a random delay in [0, T). True when it was still
  // running (killed mid-run), false when it had finished (then it must have succeeded).
  bool RunAndKill(const std::vector<std::string>& args) {
    std::uniform_int_distribution<int64_t> dist(0, duration_.count() * 1000 - 1);
    ChildProcess p(Cmd(args), {}, dir_.path());
    // The random point of the crash: a deliberate delay, not a wait for a condition.
    std::this_thread::sleep_for(std::chrono::microseconds(dist(Rng())));
    bool running = p.Running();
    p.Signal(SIGKILL);
    int code = p.Wait(seconds(10));
    ++runs_;
    if (running && code == 128 + SIGKILL) {
      ++killed_;
      return true;
    }
    EXPECT_EQ(code, 0) << "finished before the kill, but failed:\n" << p.Stdout() << p.Stderr();
    return false;
  }

  // Whether to run iteration i: the configured count, then up to 10 more while no kill has
  // landed mid-run yet (or, with `want_orphan`, inside a vacuum run): bounded, not flaky.
  bool More(int i, bool want_orphan = false) const {
    if (i < iterations_) return true;
    bool missing = killed_ == 0 || (want_orphan && orphans_repaired_ == 0);
    return missing && i < iterations_ + 10;
  }

  // After a kill: the file is intact and holds every row the writer saw committed.
  void ExpectIntact(Writer& writer) {
    auto summary = writer.Stop();
    EXPECT_EQ(summary["errors"], 0) << summary.dump();
    max_writer_ms_ = std::max(max_writer_ms_, summary.value("max_ms", 0.0));
    EXPECT_EQ(QueryText(db_, "PRAGMA integrity_check"), "ok");
    auto ids = ReadCommittedIds(writer.committed_file());
    EXPECT_GT(ids.size(), 0u);
    EXPECT_EQ(MissingIds(db_, ids), 0) << "rows the writer saw committed are gone";
  }

  // The next maintainer to start marks an orphaned `running` vacuum row failed.
  void ExpectOrphanRepaired() {
    int64_t orphans = SilentQueryInt(db_,
                                     "SELECT count(*) FROM sqlite_vacuum_log WHERE "
                                     "status = 'running'");
    int64_t failed_before = SilentQueryInt(db_,
                                           "SELECT count(*) FROM sqlite_vacuum_log "
                                           "WHERE error_message = 'daemon stopped "
                                           "during run'");
    auto r = RunMaintd({"--config", config_, "once", "--job", "health", "app"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM sqlite_vacuum_log WHERE status = 'running'"), 0);
    if (orphans > 0) {
      ++orphans_repaired_;
      EXPECT_EQ(QueryInt(db_,
                         "SELECT count(*) FROM sqlite_vacuum_log WHERE error_message = "
                         "'daemon stopped during run'"),
                std::max<int64_t>(failed_before, 0) + orphans);
    }
  }

  TempDir dir_;
  std::string db_, config_, name_;
  int iterations_ = 5;
  milliseconds duration_{0};
  int scale_ = 1;  // how many times the calibrated job was made bigger
  int runs_ = 0, killed_ = 0, orphans_repaired_ = 0;
  double max_writer_ms_ = 0;
};

// A WAL database with auto_vacuum=INCREMENTAL and table items; `Refill` adds `rows` rows of
// 1 KB and deletes them again, leaving about rows/4 free pages.
void MakeVacuumDb(const std::string& db) {
  ExecSql(db,
          "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;"
          "CREATE TABLE items(id INTEGER PRIMARY KEY, body BLOB);");
}
void Refill(const std::string& db, int rows) {
  ExecSql(db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<" +
                  std::to_string(rows) +
                  ") INSERT INTO items(body) SELECT randomblob(1000) "
                  "FROM c; DELETE FROM items WHERE id % 5 <> 0;");
}

TEST_F(CrashTest, IncrementalVacuum) {
  name_ = "incremental vacuum (once --job vacuum)";
  MakeVacuumDb(db_);
  WriteFile(config_,
            "defaults:\n  vacuum: { trigger_free_ratio: 0.01, min_free_pages: 10, "
            "pages_per_step: 8, pause_between_steps: 5ms }\n"
            "databases:\n  - name: app\n    path: " +
                db_ + "\n");
  auto fill = [&] { Refill(db_, 6000 * scale_); };
  fill();
  Calibrate({"once", "--job", "vacuum", "app"}, fill);
  for (int i = 0; More(i, true); ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    fill();
    Writer writer(db_, dir_.path(), 2);
    ASSERT_TRUE(writer.WaitForCommits(10, seconds(10)));
    RunAndKill({"once", "--job", "vacuum", "app"});
    ExpectIntact(writer);
    ExpectOrphanRepaired();
  }
  EXPECT_GT(orphans_repaired_, 0) << "no kill landed inside a vacuum run";
}

TEST_F(CrashTest, FullVacuum) {
  name_ = "full vacuum (vacuum --full)";
  MakeVacuumDb(db_);
  WriteFile(config_, "databases:\n  - name: app\n    path: " + db_ + "\n");
  auto fill = [&] { Refill(db_, 20000 * scale_); };
  fill();
  Calibrate({"vacuum", "--full", "app"}, fill);
  for (int i = 0; More(i, true); ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    fill();
    Writer writer(db_, dir_.path(), 2);
    ASSERT_TRUE(writer.WaitForCommits(10, seconds(10)));
    RunAndKill({"vacuum", "--full", "app"});
    ExpectIntact(writer);
    ExpectOrphanRepaired();
  }
  EXPECT_GT(orphans_repaired_, 0) << "no kill landed inside a vacuum run";
}

TEST_F(CrashTest, Backup) {
  name_ = "backup";
  std::string backups = dir_.File("backups");
  MakeWalDb(db_, 30000, 1000);
  WriteFile(config_, "defaults: { backup: { dir: " + backups +
                         ", keep: 3, verify: quick } }\n"
                         "databases:\n  - name: app\n    path: " +
                         db_ + "\n");
  // Doubling adds as many rows as there are.
  Calibrate({"backup", "app"}, [&] { MakeWalDb(db_, 30000 * scale_ / 2, 1000); });
  for (int i = 0; More(i); ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    Writer writer(db_, dir_.path(), 2);
    ASSERT_TRUE(writer.WaitForCommits(10, seconds(10)));
    RunAndKill({"backup", "app"});
    ExpectIntact(writer);
    // Whatever is under a backup name is a complete, verified backup.
    for (const auto& name : DirEntries(backups)) {
      if (name.size() > 3 && name.substr(name.size() - 3) == ".db" && name[0] != '.') {
        EXPECT_EQ(QueryText(backups + "/" + name, "PRAGMA quick_check"), "ok") << name;
      }
    }
  }
  // The next run succeeds and clears what the killed ones left.
  auto r = RunMaintd({"--config", config_, "backup", "app"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const auto& name : DirEntries(backups)) {
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << "stale temp file " << name;
  }
}

TEST_F(CrashTest, RetentionWithArchive) {
  name_ = "retention with archive (once --job retention)";
  std::string archive = dir_.File("archive.db");
  int64_t now = static_cast<int64_t>(time(nullptr));
  ExecSql(db_,
          "PRAGMA journal_mode=WAL; CREATE TABLE events(id INTEGER PRIMARY KEY, "
          "created_at INTEGER, body BLOB);"
          "INSERT INTO events VALUES (100000000, " +
              std::to_string(now) + ", 'fresh');");
  WriteFile(config_,
            "databases:\n  - name: app\n    path: " + db_ +
                "\n"
                "    retention:\n      - { table: events, archive_after: 7d, archive_to: " +
                archive +
                ", delete_after: 30d, batch: 50, "
                "pause_between_batches: 5ms }\n");
  int64_t next_id = 1;
  auto add_old = [&](int n) {
    ExecSql(db_, "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<" +
                     std::to_string(n - 1) + ") INSERT INTO events SELECT " +
                     std::to_string(next_id) + " + i, " + std::to_string(now - 40 * 86400) +
                     ", randomblob(200) FROM c;");
    next_id += n;
  };
  add_old(3000);
  Calibrate({"once", "--job", "retention", "app"});
  for (int i = 0; More(i); ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    add_old(3000);
    Writer writer(db_, dir_.path(), 2);
    ASSERT_TRUE(writer.WaitForCommits(10, seconds(10)));
    RunAndKill({"once", "--job", "retention", "app"});
    ExpectIntact(writer);
    EXPECT_EQ(QueryText(archive, "PRAGMA integrity_check"), "ok");
    // Every old row is in the source or the archive, identical where in both, never twice.
    EXPECT_EQ(QueryInt(archive, "SELECT count(*) - count(DISTINCT id) FROM events"), 0);
    EXPECT_EQ(QueryAttached(db_, archive,
                            "SELECT count(*) FROM (SELECT id FROM main.events WHERE id < "
                            "100000000 UNION SELECT id FROM a.events)"),
              next_id - 1)
        << "rows lost";
    EXPECT_EQ(QueryAttached(db_, archive,
                            "SELECT count(*) FROM main.events m JOIN a.events e USING (id) "
                            "WHERE m.body IS NOT e.body OR m.created_at IS NOT e.created_at"),
              0);
  }
  // A complete run afterwards: everything archived once and deleted.
  auto r = RunMaintd({"--config", config_, "once", "--job", "retention", "app"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryInt(archive, "SELECT count(*) FROM events"), next_id - 1);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM events"), 1);
}

TEST_F(CrashTest, LeaseRequeue) {
  name_ = "lease_requeue (once --job lease_requeue)";
  int64_t now = static_cast<int64_t>(time(nullptr));
  ExecSql(db_,
          "PRAGMA journal_mode=WAL; CREATE TABLE tasks(id INTEGER PRIMARY KEY, status "
          "TEXT, lease_expires_at INTEGER, leased_by TEXT, attempts INTEGER);"
          "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<6000) "
          "INSERT INTO tasks SELECT i, 'leased', " +
              std::to_string(now - 60) + ", 'w', 0 FROM c;");
  WriteFile(config_, "databases:\n  - name: app\n    path: " + db_ +
                         "\n"
                         "    lease_requeue:\n      - { table: tasks, owner_column: leased_by, "
                         "attempts_column: attempts, batch: 10 }\n");
  const std::string reset = "UPDATE tasks SET status = 'leased', leased_by = 'w', attempts = 0;";
  Calibrate({"once", "--job", "lease_requeue", "app"});
  for (int i = 0; More(i); ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    ExecSql(db_, reset);
    Writer writer(db_, dir_.path(), 2);
    ASSERT_TRUE(writer.WaitForCommits(10, seconds(10)));
    RunAndKill({"once", "--job", "lease_requeue", "app"});
    ExpectIntact(writer);
    // Each row is either untouched or requeued exactly once; batches are whole.
    EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM tasks"), 6000);
    EXPECT_EQ(QueryInt(db_,
                       "SELECT count(*) FROM tasks WHERE NOT ((status = 'leased' AND "
                       "attempts = 0 AND leased_by = 'w') OR (status = 'queued' AND "
                       "attempts = 1 AND leased_by IS NULL))"),
              0);
    EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM tasks WHERE status = 'queued'") % 10, 0);
  }
}

TEST_F(CrashTest, Restore) {
  // No writer here: a restore replaces the database, the writer's later rows included (by
  // design). The file must be the old one or the backup, whole, never a mix.
  name_ = "restore --force";
  std::string backups = dir_.File("backups");
  MakeWalDb(db_, 30000, 1000);
  WriteFile(config_, "defaults: { backup: { dir: " + backups +
                         " } }\n"
                         "databases:\n  - name: app\n    path: " +
                         db_ + "\n");
  auto b = RunMaintd({"--config", config_, "backup", "app"});
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  std::string backup;
  for (const auto& name : DirEntries(backups)) {
    if (name.size() > 3 && name.substr(name.size() - 3) == ".db") backup = backups + "/" + name;
  }
  ASSERT_FALSE(backup.empty());
  const std::string backup_digest = ContentDigest(backup);
  auto diverge = [&] { ExecSql(db_, "INSERT INTO items(body) VALUES ('after the backup');"); };
  diverge();
  Calibrate({"restore", "--force", backup, "app"});
  for (int i = 0; More(i); ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      if (e.path().filename().string().find(".pre-restore-") != std::string::npos) {
        fs::remove(e.path());
      }
    }
    diverge();
    ExecSql(db_, "PRAGMA wal_checkpoint(TRUNCATE);");
    const std::string old_bytes = ReadFile(db_);
    const std::string old_digest = ContentDigest(db_);
    RunAndKill({"restore", "--force", backup, "app"});
    EXPECT_EQ(QueryText(db_, "PRAGMA integrity_check"), "ok");
    std::string now_digest = ContentDigest(db_);
    EXPECT_TRUE(now_digest == old_digest || now_digest == backup_digest)
        << "neither the old database nor the backup";
    // A pre-restore copy under its final name is the whole old file.
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      std::string n = e.path().filename().string();
      if (n.find(".pre-restore-") != std::string::npos && n.find("-wal") == std::string::npos &&
          n.find("-shm") == std::string::npos && n.find("-tmp") == std::string::npos) {
        EXPECT_TRUE(ReadFile(e.path().string()) == old_bytes)
            << n << " is not a complete copy of the previous database";
      }
    }
  }
  auto r = RunMaintd({"--config", config_, "restore", "--force", backup, "app"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ContentDigest(db_), backup_digest);
  EXPECT_FALSE(fs::exists(db_ + ".restore-tmp"));
}

}  // namespace
}  // namespace maintd::test
