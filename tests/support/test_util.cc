#include "tests/support/test_util.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace maintd::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/maintd-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* dir = mkdtemp(buf.data());
  if (dir == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  path_ = dir;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty() && std::getenv("MAINTD_KEEP_TEST_DIRS") == nullptr) {
    std::filesystem::remove_all(path_, ec);
  }
}

namespace {

sqlite3* OpenOrFail(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

}  // namespace

void ExecSql(const std::string& path, const std::string& sql) {
  sqlite3* db = OpenOrFail(path);
  if (db == nullptr) return;
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    ADD_FAILURE() << "SQL failed on " << path << ": " << (err ? err : "?") << "\n" << sql;
    sqlite3_free(err);
  }
  sqlite3_close(db);
}

static bool QueryFirst(const std::string& path, const std::string& sql, int64_t* i,
                       std::string* s) {
  sqlite3* db = OpenOrFail(path);
  if (db == nullptr) return false;
  sqlite3_stmt* stmt = nullptr;
  bool ok = false;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    if (i) *i = sqlite3_column_int64(stmt, 0);
    if (s) {
      const unsigned char* t = sqlite3_column_text(stmt, 0);
      *s = t ? reinterpret_cast<const char*>(t) : "";
    }
    ok = true;
  } else {
    ADD_FAILURE() << "query failed on " << path << ": " << sqlite3_errmsg(db) << "\n" << sql;
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return ok;
}

int64_t QueryInt(const std::string& path, const std::string& sql) {
  int64_t v = -1;
  QueryFirst(path, sql, &v, nullptr);
  return v;
}

std::string QueryText(const std::string& path, const std::string& sql) {
  std::string v;
  QueryFirst(path, sql, nullptr, &v);
  return v;
}

void MakeWalDb(const std::string& path, int rows, int row_bytes) {
  ExecSql(path,
          "PRAGMA journal_mode=WAL;"
          "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, body TEXT);"
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < " +
              std::to_string(rows) + ") INSERT INTO items(body) SELECT hex(randomblob(" +
              std::to_string(row_bytes / 2) + ")) FROM n;");
}

HeldConnection::HeldConnection(const std::string& path) : db_(OpenOrFail(path)) {}

HeldConnection::~HeldConnection() { sqlite3_close(db_); }

void HeldConnection::Exec(const std::string& sql) {
  char* err = nullptr;
  if (db_ == nullptr || sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    ADD_FAILURE() << "SQL failed: " << (err ? err : "?") << "\n" << sql;
    sqlite3_free(err);
  }
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

std::string MaintdBinary() { return MAINTD_BINARY; }

std::string WriterBinary() {
  return std::filesystem::path(MAINTD_BINARY).parent_path().string() + "/maintd-test-writer";
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env,
                           const std::string& log_dir) {
  static int counter = 0;
  std::string tag = std::to_string(getpid()) + "-" + std::to_string(++counter);
  std::string dir = log_dir.empty() ? std::filesystem::temp_directory_path().string() : log_dir;
  out_path_ = dir + "/child-" + tag + ".out";
  err_path_ = dir + "/child-" + tag + ".err";
  pid_ = fork();
  if (pid_ == 0) {
    // Dies with the test process, even when that one is killed or crashes and no destructor
    // runs (a leaked writer would go on writing for hours). The signal follows the forking
    // thread: ChildProcess is only made on a test's main thread.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (Running()) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
  std::error_code ec;
  std::filesystem::remove(out_path_, ec);
  std::filesystem::remove(err_path_, ec);
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0 && !exited_) kill(pid_, sig);
}

bool ChildProcess::Running() {
  if (pid_ <= 0 || exited_) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = st;
    return false;
  }
  return true;
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (!WaitFor([&] { return !Running(); }, timeout)) return -1;
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

std::string ChildProcess::Stdout() const { return ReadFile(out_path_); }
std::string ChildProcess::Stderr() const { return ReadFile(err_path_); }

ProcessResult RunMaintd(const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env,
                        std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{MaintdBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv, env);
  ProcessResult r;
  r.exit_code = child.Wait(timeout);
  if (r.exit_code == -1) child.Signal(SIGKILL);
  r.out = child.Stdout();
  r.err = child.Stderr();
  return r;
}

static std::string UniqueTag() {
  static int counter = 0;
  return std::to_string(getpid()) + "-" + std::to_string(++counter);
}

Writer::Writer(const std::string& db, const std::string& work_dir, int interval_ms)
    : summary_(work_dir + "/writer-summary-" + UniqueTag() + ".json"),
      committed_(work_dir + "/writer-committed-" + UniqueTag() + ".txt"),
      process_({WriterBinary(), db, "--interval-ms", std::to_string(interval_ms), "--summary",
                summary_, "--committed", committed_},
               {}, work_dir) {}

bool Writer::WaitForCommits(int n, std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        std::string s = ReadFile(committed_);
        return std::count(s.begin(), s.end(), '\n') >= n;
      },
      timeout);
}

nlohmann::json Writer::Stop() {
  process_.Signal(SIGTERM);
  int code = process_.Wait(std::chrono::seconds(30));
  std::string text = ReadFile(summary_);
  if (text.empty()) {
    ADD_FAILURE() << "writer left no summary (exit " << code << "): " << process_.Stderr();
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(text);
}

int64_t SilentQueryInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t v = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

}  // namespace maintd::test
