// maintd-bench-wal-pin: what the WAL pin probe (lib/wal/pin.h) costs per database.
//
//   maintd-bench-wal-pin [--dbs N] [--rounds R] [--dir DIR]
//
// Makes N small WAL databases in DIR (default: a temp dir, deleted at the end), each kept
// open by an "application" connection of this process (as a running app keeps its -wal and
// -shm), then times R rounds of: open a read-only connection (what every job run does
// anyway), ProbeWalPins on it, close. Prints the cost of the open alone and of the probe,
// per database, and what a round over 10,000 databases would take. A second pass holds a
// read transaction on every database (from another process: a pinned WAL, so the probe
// also reads /proc/locks, whose size grows with every lock on the machine) and times again.
// Not part of ctest: figures depend on the machine and its load.

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "lib/wal/pin.h"

namespace {

using Clock = std::chrono::steady_clock;
using maintd::Connection;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

sqlite3* OpenApp(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_busy_timeout(db, 5000);
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), sqlite3_errmsg(db));
    std::exit(1);
  }
  return db;
}

// Per database: microseconds to open+close, and to probe (excluding the open).
void Round(const std::vector<std::string>& paths, int rounds, const char* label,
           size_t expect_readers) {
  double open_us = 0, probe_us = 0;
  size_t readers = 0, n = 0;
  maintd::OpenOptions ro;
  ro.read_only = true;
  for (int r = 0; r < rounds; ++r) {
    for (const std::string& p : paths) {
      auto t0 = Clock::now();
      auto conn = Connection::Open(p, ro);
      (void)conn->QueryInt("PRAGMA schema_version");  // what any job does first
      auto t1 = Clock::now();
      auto probe = maintd::ProbeWalPins(*conn);
      auto t2 = Clock::now();
      if (!probe.ok()) {
        std::fprintf(stderr, "%s: %s\n", p.c_str(), probe.status().ToString().c_str());
        std::exit(1);
      }
      readers += probe->readers.size();
      open_us += Micros(t1 - t0);
      probe_us += Micros(t2 - t1);
      ++n;
    }
  }
  std::printf("%-28s open+read %7.1f us/db   probe %7.1f us/db   (x10,000 dbs: %.2f s)   "
              "readers found %zu/%zu\n",
              label, open_us / n, probe_us / n, probe_us / n * 10000 / 1e6, readers / rounds,
              expect_readers);
}

}  // namespace

int main(int argc, char** argv) {
  int dbs = 1000, rounds = 5;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--dbs") dbs = std::atoi(argv[i + 1]);
    else if (k == "--rounds") rounds = std::atoi(argv[i + 1]);
    else if (k == "--dir") dir = argv[i + 1];
  }
  // Three descriptors per open database (db, -wal, -shm), in two processes.
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/maintd-bench-walpin-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  std::vector<std::string> paths;
  std::vector<sqlite3*> apps;
  for (int i = 0; i < dbs; ++i) {
    paths.push_back(dir + "/t" + std::to_string(i) + ".db");
    apps.push_back(OpenApp(paths.back(),
                           "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t(x);"
                           "INSERT INTO t VALUES (randomblob(100))"));
  }
  std::printf("%d WAL databases, %d rounds, sqlite %s\n", dbs, rounds, sqlite3_libversion());
  Round(paths, rounds, "no reader", 0);

  // A child process holds a read transaction on every database; we then commit on each.
  int ready[2], done[2];
  if (pipe(ready) != 0 || pipe(done) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    std::vector<sqlite3*> held;
    for (const std::string& p : paths) held.push_back(OpenApp(p, "BEGIN; SELECT count(*) FROM t"));
    char c = 'r';
    (void)!write(ready[1], &c, 1);
    (void)!read(done[0], &c, 1);
    _exit(0);
  }
  char c;
  if (read(ready[0], &c, 1) != 1) return 1;
  for (sqlite3* app : apps) sqlite3_exec(app, "INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr);
  Round(paths, rounds, "every WAL pinned", paths.size());
  (void)!write(done[1], &c, 1);
  waitpid(child, nullptr, 0);
  for (sqlite3* app : apps) sqlite3_close(app);
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
