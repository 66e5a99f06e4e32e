// maintd-queue-worker: a task-queue worker process for the lease_requeue tests. It claims,
// works on, renews, completes or abandons tasks of a table
//
//   tasks(id INTEGER PRIMARY KEY, status TEXT, owner TEXT, <time column>, <counter column>)
//
// with status 'queued' | 'leased' | 'done' | 'dead', and logs every step it took to a file,
// one line per event, flushed at once:
//
//   claim    TASK TOKEN T_US EXPIRES_MS ATTEMPTS   lease taken (the counter after the claim)
//   renew    TASK TOKEN T_US EXPIRES_MS            lease extended (or heartbeat) while valid
//   complete TASK TOKEN T_US                       task done while the lease was valid
//   abandon  TASK TOKEN T_US EXPIRES_MS            "crash": the lease is left to expire
//   late     TASK TOKEN T_US EXPIRES_MS            our lease had expired (not yet requeued)
//   lost     TASK TOKEN T_US EXPIRES_MS            our lease had expired and was requeued
//   violation TASK TOKEN T_US EXPIRES_MS STATUS OWNER  our lease was still valid, yet the
//                                                  row was no longer ours: must never happen
//
// EXPIRES_MS is the exact end of the lease as the worker (the "library") sees it, in Unix
// milliseconds: claim or renew time + --lease-ms. What it stores in the time column:
//   --time-unit ms (default)  that end in milliseconds;
//   --time-unit s             that end in whole seconds, ROUNDED DOWN (as real libraries
//                             storing a JavaScript Date in seconds do): up to 1 s earlier;
//   --heartbeat               the claim/renew time itself (a heartbeat), in that unit: the
//                             lease is valid while the beat is younger than --lease-ms.
// T_US is the wall clock (CLOCK_REALTIME) in microseconds, read while holding the write
// lock (after BEGIN IMMEDIATE), so the times of one task's events are in commit order.
// TOKEN (worker id and claim number) names one lease. Renew and complete check, inside
// their BEGIN IMMEDIATE transaction, that the row is still leased to this token and that
// the lease has not ended (by EXPIRES_MS) before they write. Completion leaves owner as it
// is (owner columns may be NOT NULL).
//
//   maintd-queue-worker DB --id N --log FILE [--lease-ms 250] [--work-ms 40]
//                       [--crash-pct 30] [--renew-pct 30] [--seed S]
//                       [--time-column expires] [--counter-column attempts]
//                       [--time-unit ms|s] [--heartbeat 0|1] [--runs-left 0|1]
//                       [--finish-last-ms N] [--hold 0|1]
//   --runs-left 1       a claim decrements the counter (runs left, as liteque's numRunsLeft)
//                       instead of adding 1
//   --finish-last-ms N  tasks that do not crash complete in the last N ms of their lease
//                       (at least 100 ms before its end), with no renewal
//   --hold 1            claim one task and keep it, renewing (or beating) every third of the
//                       lease, until killed
// Runs until SIGTERM/SIGINT (a lease held then is abandoned). Exit 0, or 1 on an SQLite
// error.

#include <signal.h>
#include <sqlite3.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

long long NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

struct Worker {
  sqlite3* db = nullptr;
  FILE* log = nullptr;
  std::string id;
  int lease_ms = 250;
  std::string time_column = "expires", counter_column = "attempts";
  bool seconds = false, heartbeat = false, runs_left = false;

  // The value stored in the time column for a lease taken or renewed at `now_ms`.
  long long Stored(long long now_ms) const {
    long long t = heartbeat ? now_ms : now_ms + lease_ms;
    return seconds ? t / 1000 : t;
  }

  bool Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::fprintf(stderr, "worker %s: %s: %s\n", id.c_str(), sql, err ? err : "?");
      sqlite3_free(err);
      return false;
    }
    return true;
  }
  void Log(const std::string& line) {
    std::fprintf(log, "%s\n", line.c_str());
    std::fflush(log);
  }

  // Claims one queued task. Returns false on error; *task = 0 when none was queued.
  bool Claim(const std::string& token, long long* task, long long* expires) {
    *task = 0;
    if (!Exec("BEGIN IMMEDIATE")) return false;
    long long now_us = NowUs();
    *expires = now_us / 1000 + lease_ms;
    sqlite3_stmt* st = nullptr;
    std::string sql = "UPDATE tasks SET status = 'leased', owner = ?1, \"" + time_column +
                      "\" = ?2, \"" + counter_column + "\" = coalesce(\"" + counter_column + "\", 0) " +
                      (runs_left ? "- 1" : "+ 1") +
                      " WHERE id = (SELECT id FROM tasks WHERE status = 'queued' ORDER BY id "
                      "LIMIT 1) RETURNING id, \"" + counter_column + "\"";
    sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    sqlite3_bind_text(st, 1, token.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, Stored(now_us / 1000));
    int rc = sqlite3_step(st);
    long long attempts = 0;
    if (rc == SQLITE_ROW) {
      *task = sqlite3_column_int64(st, 0);
      attempts = sqlite3_column_int64(st, 1);
      rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
      std::fprintf(stderr, "worker %s: claim: %s\n", id.c_str(), sqlite3_errmsg(db));
      Exec("ROLLBACK");
      return false;
    }
    if (!Exec("COMMIT")) return false;
    if (*task != 0) {
      Log("claim " + std::to_string(*task) + " " + token + " " + std::to_string(now_us) + " " +
          std::to_string(*expires) + " " + std::to_string(attempts));
    }
    return true;
  }

  // Renews (complete=false) or completes the lease `token` on `task` whose expiry we know
  // as *expires. Returns false when the lease is gone (logged as late/lost/violation).
  bool Guarded(long long task, const std::string& token, bool complete, long long* expires,
               bool* error) {
    *error = false;
    if (!Exec("BEGIN IMMEDIATE")) return *error = true, false;
    long long now_us = NowUs();
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT status, coalesce(owner, '') FROM tasks WHERE id = ?1", -1, &st,
                       nullptr);
    sqlite3_bind_int64(st, 1, task);
    std::string status, owner;
    if (sqlite3_step(st) == SQLITE_ROW) {
      status = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      owner = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    std::string tail = std::to_string(task) + " " + token + " " + std::to_string(now_us) + " " +
                       std::to_string(*expires);
    bool mine = status == "leased" && owner == token;
    if (!mine || *expires * 1000 <= now_us) {
      Exec("ROLLBACK");
      if (mine)
        Log("late " + tail);
      else if (*expires * 1000 <= now_us)
        Log("lost " + tail);
      else
        Log("violation " + tail + " " + status + " " + owner);
      return false;
    }
    long long new_expires = now_us / 1000 + lease_ms;
    std::string sql = complete ? "UPDATE tasks SET status = 'done' WHERE id = ?1"
                               : "UPDATE tasks SET \"" + time_column + "\" = ?2 WHERE id = ?1";
    sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    sqlite3_bind_int64(st, 1, task);
    if (!complete) sqlite3_bind_int64(st, 2, Stored(now_us / 1000));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || !Exec("COMMIT")) {
      std::fprintf(stderr, "worker %s: update: %s\n", id.c_str(), sqlite3_errmsg(db));
      Exec("ROLLBACK");
      return *error = true, false;
    }
    if (complete) {
      Log("complete " + std::to_string(task) + " " + token + " " + std::to_string(now_us));
    } else {
      *expires = new_expires;
      Log("renew " + std::to_string(task) + " " + token + " " + std::to_string(now_us) + " " +
          std::to_string(new_expires));
    }
    return true;
  }
};

void SleepMs(long long ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s DB --id N --log FILE [--lease-ms N] [--work-ms N] "
                 "[--crash-pct N] [--renew-pct N] [--seed N] [--time-column NAME] "
                 "[--counter-column NAME] "
                 "[--time-unit ms|s] [--heartbeat 0|1] [--runs-left 0|1] "
                 "[--finish-last-ms N] [--hold 0|1]\n",
                 argv[0]);
    return 2;
  }
  Worker w;
  std::string db_path = argv[1], log_path;
  int work_ms = 40, crash_pct = 30, renew_pct = 30, finish_last_ms = 0;
  bool hold = false;
  unsigned seed = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--id")
      w.id = argv[i + 1];
    else if (k == "--log")
      log_path = argv[i + 1];
    else if (k == "--lease-ms")
      w.lease_ms = std::atoi(argv[i + 1]);
    else if (k == "--work-ms")
      work_ms = std::atoi(argv[i + 1]);
    else if (k == "--crash-pct")
      crash_pct = std::atoi(argv[i + 1]);
    else if (k == "--renew-pct")
      renew_pct = std::atoi(argv[i + 1]);
    else if (k == "--seed")
      seed = static_cast<unsigned>(std::atol(argv[i + 1]));
    else if (k == "--time-column")
      w.time_column = argv[i + 1];
    else if (k == "--counter-column")
      w.counter_column = argv[i + 1];
    else if (k == "--time-unit")
      w.seconds = std::string(argv[i + 1]) == "s";
    else if (k == "--heartbeat")
      w.heartbeat = std::atoi(argv[i + 1]) != 0;
    else if (k == "--runs-left")
      w.runs_left = std::atoi(argv[i + 1]) != 0;
    else if (k == "--finish-last-ms")
      finish_last_ms = std::atoi(argv[i + 1]);
    else if (k == "--hold")
      hold = std::atoi(argv[i + 1]) != 0;
  }
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  if (sqlite3_open(db_path.c_str(), &w.db) != SQLITE_OK) return 1;
  sqlite3_busy_timeout(w.db, 10000);
  w.log = std::fopen(log_path.c_str(), "a");
  if (w.log == nullptr) return 1;
  std::mt19937 rng(seed);
  auto pct = [&](int p) { return static_cast<int>(rng() % 100) < p; };

  long long claims = 0;
  int rc = 0;
  while (!g_stop) {
    std::string token = "w" + w.id + ":" + std::to_string(++claims);
    long long task = 0, expires = 0;
    if (!w.Claim(token, &task, &expires)) {
      rc = 1;
      break;
    }
    if (task == 0) {
      SleepMs(5);
      continue;
    }
    bool error = false, abandon = false;
    // Sleeps until a random moment in the last finish_last_ms (at least 100 ms before the end).
    auto until_last = [&] {
      long long margin = 100 + static_cast<long long>(rng() % (finish_last_ms - 99));
      SleepMs(expires - NowUs() / 1000 - margin);
    };
    if (hold) {
      // Alive until SIGKILL: renews (or beats) every third of the lease. SIGTERM: abandoned.
      bool held = true;
      while (!g_stop && held && !error) {
        SleepMs(w.lease_ms / 3);
        held = g_stop || w.Guarded(task, token, false, &expires, &error);
      }
      abandon = held && !error;
    } else if (pct(crash_pct)) {
      abandon = true;  // crash: the lease is left to expire
    } else {
      bool held = true;
      if (finish_last_ms > 100) {
        // Renew (or beat) in the last stretch of the lease, then finish in the last stretch
        // of the lease that holds then.
        if (pct(renew_pct)) {
          until_last();
          held = w.Guarded(task, token, false, &expires, &error);
        }
        if (held && !error) until_last();
      } else {
        SleepMs(static_cast<long long>(rng() % (work_ms + 1)));
        if (!g_stop && pct(renew_pct)) {
          // Renew close to the expiry, racing the requeue job.
          SleepMs(expires - NowUs() / 1000 - 25 - static_cast<long long>(rng() % 20));
          held = w.Guarded(task, token, false, &expires, &error);
          if (held) SleepMs(static_cast<long long>(rng() % (work_ms + 1)));
        }
      }
      if (held && !error) {
        if (g_stop)
          abandon = true;
        else
          w.Guarded(task, token, true, &expires, &error);
      }
    }
    if (error) {
      rc = 1;
      break;
    }
    if (abandon) {
      w.Log("abandon " + std::to_string(task) + " " + token + " " + std::to_string(NowUs()) + " " +
            std::to_string(expires));
    }
  }
  std::fclose(w.log);
  sqlite3_close(w.db);
  return rc;
}
