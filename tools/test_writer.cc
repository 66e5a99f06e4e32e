// maintd-test-writer: a separate process that commits small rows to a database at a steady
// pace and measures each commit's latency. Used by the end-to-end tests and bench/ scripts
// to prove that maintenance never stalls or breaks an application writer.
//
//   maintd-test-writer DB [--interval-ms N] [--summary FILE] [--max-rows N]
//                         [--busy-timeout-ms N] [--committed FILE]
//
// Creates table writer_rows(id INTEGER PRIMARY KEY, payload BLOB, ts REAL) when missing and
// puts the database in WAL mode only when it is new. Stops on SIGTERM/SIGINT or after
// --max-rows; then writes a JSON summary {commits, errors, p50_ms, p99_ms, max_ms, max_at,
// last_id, first_error}. With --committed, appends each committed id to FILE (flushed after
// each commit), so a test killed mid-way still knows what the writer saw committed.
// Exit code 0 when no commit failed, 1 otherwise.

#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[idx];
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DB [--interval-ms N] [--summary FILE] [--max-rows N]\n",
                 argv[0]);
    return 2;
  }
  std::string db_path = argv[1], summary_path, committed_path;
  int interval_ms = 5, busy_ms = 5000;
  long max_rows = -1;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--interval-ms") interval_ms = std::atoi(argv[i + 1]);
    else if (k == "--summary") summary_path = argv[i + 1];
    else if (k == "--max-rows") max_rows = std::atol(argv[i + 1]);
    else if (k == "--busy-timeout-ms") busy_ms = std::atoi(argv[i + 1]);
    else if (k == "--committed") committed_path = argv[i + 1];
  }
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);

  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "writer: cannot open %s\n", db_path.c_str());
    return 1;
  }
  sqlite3_busy_timeout(db, busy_ms);
  sqlite3_exec(db,
               "CREATE TABLE IF NOT EXISTS writer_rows(id INTEGER PRIMARY KEY, payload BLOB, "
               "ts REAL)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO writer_rows(payload, ts) VALUES (randomblob(100), ?1)",
                     -1, &insert, nullptr);
  FILE* committed = committed_path.empty() ? nullptr : std::fopen(committed_path.c_str(), "a");

  std::vector<double> latencies;
  long commits = 0, errors = 0;
  long long last_id = 0;
  std::string first_error;
  double max_ms = 0, max_at = 0;  // the slowest commit, and when it started (Unix seconds)
  auto next = std::chrono::steady_clock::now();
  while (!g_stop && (max_rows < 0 || commits < max_rows)) {
    auto t0 = std::chrono::steady_clock::now();
    auto wall0 = std::chrono::system_clock::now();
    sqlite3_bind_double(insert, 1, static_cast<double>(time(nullptr)));
    int rc = sqlite3_step(insert);
    sqlite3_reset(insert);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
    if (rc == SQLITE_DONE) {
      ++commits;
      last_id = sqlite3_last_insert_rowid(db);
      latencies.push_back(ms);
      if (ms > max_ms) {
        max_ms = ms;
        max_at = std::chrono::duration<double>(wall0.time_since_epoch()).count();
      }
      if (committed) {
        std::fprintf(committed, "%lld\n", last_id);
        std::fflush(committed);
      }
    } else {
      ++errors;
      if (first_error.empty()) first_error = sqlite3_errmsg(db);
    }
    next += std::chrono::milliseconds(interval_ms);
    auto now = std::chrono::steady_clock::now();
    if (next > now) std::this_thread::sleep_until(next);
    else next = now;
  }
  sqlite3_finalize(insert);
  sqlite3_close(db);
  if (committed) std::fclose(committed);

  FILE* out = summary_path.empty() ? stdout : std::fopen(summary_path.c_str(), "w");
  if (out) {
    std::string err;
    for (char c : first_error) err += (c == '"' || c == '\\') ? ' ' : c;
    std::fprintf(out,
                 "{\"commits\":%ld,\"errors\":%ld,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
                 "\"max_ms\":%.3f,\"max_at\":%.3f,\"last_id\":%lld,\"first_error\":\"%s\"}\n",
                 commits, errors, Percentile(latencies, 0.5), Percentile(latencies, 0.99), max_ms,
                 max_at, last_id, err.c_str());
    if (out != stdout) std::fclose(out);
  }
  return errors == 0 ? 0 : 1;
}
