// End-to-end: the real daemon, short intervals, an application (this test process) holding
// its connection open. After the first round, while nothing writes, the daemon opens no
// connection on the database (watched with inotify: only the signature's read-only header
// preads of the file and its WAL, no -shm, no write) and the files' bytes and mtimes stay
// the same; a write is then noticed and checkpointed as before.
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <signal.h>

#include "tests/support/log_capture.h"
#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

using std::chrono::seconds;

// sha256 of a file, computed by a separate process: opening and closing the database
// here would drop the POSIX locks of this process's own connection (SQLITE_FACTS.md).
std::string Sha256Of(const std::string& path) {
  std::string out;
  FILE* p = popen(("sha256sum '" + path + "'").c_str(), "r");
  if (p == nullptr) return "";
  char buf[256];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  return out.substr(0, 64);
}

int64_t MtimeNs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// Watches a directory for opens and writes of the files named `stem`, `stem-wal`,
// `stem-shm` (not the maintainer's lock file).
class FileWatch {
 public:
  FileWatch(const std::string& dir, const std::string& stem) : stem_(stem) {
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ >= 0) {
      inotify_add_watch(fd_, dir.c_str(),
                        IN_OPEN | IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
    }
  }
  ~FileWatch() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  // The events seen since the last call, one "name:what" per entry (what: open, modify,
  // create, close_write: closed after an open for writing, close_nowrite).
  std::vector<std::string> Drain() {
    std::vector<std::string> seen;
    alignas(inotify_event) char buf[8192];
    while (true) {
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      for (char* p = buf; p < buf + n;) {
        auto* e = reinterpret_cast<inotify_event*>(p);
        std::string name = e->len > 0 ? e->name : "";
        if (name == stem_ || name == stem_ + "-wal" || name == stem_ + "-shm") {
          std::string what = (e->mask & IN_OPEN)          ? "open"
                             : (e->mask & IN_MODIFY)      ? "modify"
                             : (e->mask & IN_CREATE)      ? "create"
                             : (e->mask & IN_CLOSE_WRITE) ? "close_write"
                                                          : "close_nowrite";
          seen.push_back(name + ":" + what);
        }
        p += sizeof(inotify_event) + e->len;
      }
    }
    return seen;
  }

 private:
  std::string stem_;
  int fd_ = -1;
};

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + " ";
  return s;
}

// The events other than the signature's own header reads: those open the database and its
// WAL read-only, pread and close (open + close_nowrite). A connection shows in the -shm (WAL
// mode maps it at its first statement), a write in modify or close_write.
std::vector<std::string> BeyondHeaderReads(const std::vector<std::string>& events) {
  std::vector<std::string> rest;
  for (const std::string& e : events) {
    bool header_read = (e == "app.db:open" || e == "app.db:close_nowrite" ||
                        e == "app.db-wal:open" || e == "app.db-wal:close_nowrite");
    if (!header_read) rest.push_back(e);
  }
  return rest;
}

TEST(UnchangedE2E, AnIdleDatabaseIsNotOpenedUntilItIsWrittenTo) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 200);
  HeldConnection app(db);  // the application: keeps the WAL between the daemon's runs
  app.Exec("INSERT INTO items(body) VALUES ('before the daemon')");

  std::string config = dir.File("c.yaml");
  WriteFile(config, "http: { listen: \"\" }\n"
                    "defaults:\n"
                    "  checkpoint: { every: 1s }\n"
                    "  vacuum: { check_every: 1s }\n"
                    "  health: { quick_check_every: 1s }\n"
                    "databases:\n  - name: app\n    path: " + db + "\n");
  ChildProcess daemon({MaintdBinary(), "--config", config, "--log-level", "debug", "run"}, {},
                      dir.path());
  auto skips = [&](const std::string& job) {
    return CountOf(daemon.Stderr(), "job=" + job + " skipped (unchanged)");
  };
  // The first round ran every job for real; from then on they skip.
  ASSERT_TRUE(WaitFor([&] { return skips("checkpoint") >= 1 && skips("vacuum") >= 1 &&
                                   skips("health") >= 1; },
                      seconds(60)))
      << daemon.Stderr();

  FileWatch watch(dir.path(), "app.db");
  ASSERT_TRUE(watch.ok());
  const std::string bytes = Sha256Of(db), wal_bytes = Sha256Of(db + "-wal");
  const int64_t mtime = MtimeNs(db), wal_mtime = MtimeNs(db + "-wal");
  watch.Drain();  // sha256sum's own opens
  const int checkpoints = skips("checkpoint"), vacuums = skips("vacuum"),
            healths = skips("health");
  ASSERT_TRUE(WaitFor([&] { return skips("checkpoint") >= checkpoints + 3 &&
                                   skips("vacuum") >= vacuums + 3 &&
                                   skips("health") >= healths + 3; },
                      seconds(30)))
      << daemon.Stderr();
  std::vector<std::string> idle = watch.Drain();
  EXPECT_EQ(Join(BeyondHeaderReads(idle)), "")
      << "the daemon connected to or wrote the database while idle";
  // The header reads themselves: two files, open + close each, per skipped run at most.
  const int skipped = skips("checkpoint") - checkpoints + skips("vacuum") - vacuums +
                      skips("health") - healths;
  EXPECT_LE(static_cast<int>(idle.size()), 4 * (skipped + 3)) << Join(idle);
  EXPECT_EQ(MtimeNs(db), mtime);
  EXPECT_EQ(MtimeNs(db + "-wal"), wal_mtime);
  EXPECT_EQ(Sha256Of(db), bytes);
  EXPECT_EQ(Sha256Of(db + "-wal"), wal_bytes);
  watch.Drain();

  // A write: the next checkpoint opens the database and checkpoints it.
  const std::string ran = "job=checkpoint status=healthy";
  const int runs = CountOf(daemon.Stderr(), ran);
  app.Exec("INSERT INTO items(body) SELECT body FROM items");
  ASSERT_TRUE(WaitFor([&] { return CountOf(daemon.Stderr(), ran) > runs; }, seconds(30)))
      << daemon.Stderr();
  // The same watch sees the connection this time (positive control).
  std::string events = Join(watch.Drain());
  EXPECT_NE(events.find("app.db-shm:"), std::string::npos) << events;

  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(25)), 0) << daemon.Stderr();
}

}  // namespace
}  // namespace maintd::test
