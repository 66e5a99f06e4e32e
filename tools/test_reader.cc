// maintd-test-reader: a separate process that holds a read transaction on a database, like
// an application that forgot to end one (or Litestream's permanent reader). Used by the
// tests of the WAL pin report (who pins the WAL).
//
//   maintd-test-reader DB --ready FILE --release FILE [--extra-connection]
//
// Opens DB, begins a read transaction (BEGIN; one SELECT) and writes FILE --ready
// ("reading\n") once it holds it. When the file --release exists it commits, writes
// "<ready>.released", and keeps its connection(s) open, idle, until SIGTERM/SIGINT. With
// --extra-connection a second connection of the same process has read the database (and
// mapped the -shm) before, and stays idle: one process, two connections, one reading.

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

void WriteAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fputs(text.c_str(), f);
    std::fclose(f);
    std::rename(tmp.c_str(), path.c_str());
  }
}

bool Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "maintd-test-reader: %s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    return false;
  }
  return true;
}

sqlite3* Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "maintd-test-reader: open %s: %s\n", path.c_str(), sqlite3_errmsg(db));
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DB --ready FILE --release FILE [--extra-connection]\n", argv[0]);
    return 2;
  }
  std::string db_path = argv[1], ready, release;
  bool extra = false;
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--ready" && i + 1 < argc) ready = argv[++i];
    else if (k == "--release" && i + 1 < argc) release = argv[++i];
    else if (k == "--extra-connection") extra = true;
  }
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  sqlite3* other = nullptr;
  if (extra) {
    other = Open(db_path);
    if (other == nullptr || !Exec(other, "SELECT count(*) FROM sqlite_master")) return 1;
  }
  sqlite3* db = Open(db_path);
  if (db == nullptr) return 1;
  if (!Exec(db, "BEGIN") || !Exec(db, "SELECT count(*) FROM sqlite_master")) return 1;
  WriteAtomically(ready, "reading\n");
  using namespace std::chrono_literals;
  while (!g_stop && !(release.size() && Exists(release))) std::this_thread::sleep_for(5ms);
  bool ok = Exec(db, "COMMIT");
  WriteAtomically(ready + ".released", ok ? "released\n" : "failed\n");
  while (!g_stop) std::this_thread::sleep_for(5ms);
  sqlite3_close(db);
  if (other) sqlite3_close(other);
  return ok ? 0 : 1;
}
