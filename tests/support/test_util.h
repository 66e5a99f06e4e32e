#pragma once
// Shared test helpers: temp dirs, real SQLite files, the real binary, writer processes.
// No mocks of SQLite: everything here makes real files and real processes.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace maintd::test {

// A fresh directory under $TMPDIR, removed (recursively) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs `sql` (several statements allowed) on the database at `path`, creating it. Fails
// the current test (ADD_FAILURE) on error.
void ExecSql(const std::string& path, const std::string& sql);
// First column of the first row as integer / text; -1 / "" on error (and ADD_FAILURE).
int64_t QueryInt(const std::string& path, const std::string& sql);
std::string QueryText(const std::string& path, const std::string& sql);

// Creates a WAL database with table items(id INTEGER PRIMARY KEY, body TEXT) holding
// `rows` rows of ~`row_bytes` bytes each.
void MakeWalDb(const std::string& path, int rows = 1000, int row_bytes = 200);

// A connection held open by the test (like an application's). While it is open, closing
// other connections does not checkpoint and delete the WAL; it has no transaction open
// unless the test begins one. Closed by the destructor.
class HeldConnection {
 public:
  explicit HeldConnection(const std::string& path);
  ~HeldConnection();
  HeldConnection(const HeldConnection&) = delete;
  HeldConnection& operator=(const HeldConnection&) = delete;
  void Exec(const std::string& sql);  // ADD_FAILURE on error

 private:
  sqlite3* db_ = nullptr;
};

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
// `s` without its trailing newlines and spaces (a command's one-line output).
inline std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// First column of the first row of `sql` on `path` opened read-only; -1 while that fails
// (file or table not there yet, locked past 1 s): for polling in WaitFor.
int64_t SilentQueryInt(const std::string& path, const std::string& sql);

// Waits until `cond` is true, polling every 10 ms; false on timeout.
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Runs the built sqlite-maintd with `args` to completion (stdin closed), with extra
// environment variables. Kills it after `timeout` (exit_code then -1).
ProcessResult RunMaintd(const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A child process running in the background (the daemon, a writer). Killed (SIGKILL) by
// the destructor if still running, and when the test process dies. Create it on the test's
// main thread (the kernel kills it when the thread that made it exits).
class ChildProcess {
 public:
  // argv[0] is the program path. stdout/stderr go to files in `log_dir` (or /dev/null).
  ChildProcess(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& env = {},
               const std::string& log_dir = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for exit; returns the exit code (128+N for signal N) or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  bool Running();
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool exited_ = false;
  std::string out_path_, err_path_;
};

// Path of the built sqlite-maintd and of maintd-test-writer.
std::string MaintdBinary();
std::string WriterBinary();

// Starts maintd-test-writer on `db` committing every `interval_ms`; Stop() sends SIGTERM
// and returns its JSON summary (commits, errors, p50_ms, p99_ms, max_ms, last_id).
class Writer {
 public:
  Writer(const std::string& db, const std::string& work_dir, int interval_ms = 5);
  nlohmann::json Stop();
  const std::string& committed_file() const { return committed_; }
  // Waits until the writer has committed at least `n` rows.
  bool WaitForCommits(int n, std::chrono::milliseconds timeout);

 private:
  std::string summary_, committed_;
  ChildProcess process_;
};

}  // namespace maintd::test
