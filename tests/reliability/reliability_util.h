#pragma once
// Helpers shared by the reliability tests (tests/reliability/): content digests of a
// database, the writer's committed ids, directory listings, corrupting pages.
// Header-only: the folder's binary is built from *_test.cc files only.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "tests/support/test_util.h"

namespace maintd::test {

// FNV-1a over every row of every application table (names not starting with "sqlite_"),
// in rowid order, with each value's type: equal digests = equal content. The journal tables
// and sqlite_stat1 are left out. "" when the database cannot be read (and ADD_FAILURE).
inline std::string ContentDigest(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return "";
  }
  sqlite3_busy_timeout(db, 10000);
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
  };
  std::vector<std::string> tables;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                     "'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                     -1, &st, nullptr);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  bool ok = true;
  int64_t rows = 0;
  for (const auto& t : tables) {
    mix(t.data(), t.size() + 1);
    std::string quoted = "\"";
    for (char c : t) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\"";
    std::string sql = "SELECT rowid, * FROM " + quoted + " ORDER BY rowid";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ok = false;
      break;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      ++rows;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        int type = sqlite3_column_type(st, i);
        mix(&type, sizeof type);
        const void* blob = sqlite3_column_blob(st, i);
        mix(blob ? blob : "", static_cast<size_t>(sqlite3_column_bytes(st, i)));
      }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) ok = false;
  }
  if (!ok) ADD_FAILURE() << "cannot read " << path << ": " << sqlite3_errmsg(db);
  sqlite3_close(db);
  if (!ok) return "";
  std::ostringstream out;
  out << std::hex << h << "/" << std::dec << rows << "rows";
  return out.str();
}

// First column of `sql` run on `db` with `archive` attached as `a`; -1 on error.
inline int64_t QueryAttached(const std::string& db, const std::string& archive,
                             const std::string& sql) {
  sqlite3* conn = nullptr;
  int64_t v = -1;
  // Read-write, like any opener: a hot journal left by a failed rollback is rolled back.
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(conn, 5000);
    std::string attach = "ATTACH '" + archive + "' AS a";
    sqlite3_stmt* st = nullptr;
    if (sqlite3_exec(conn, attach.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK &&
        sqlite3_prepare_v2(conn, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    } else {
      ADD_FAILURE() << sqlite3_errmsg(conn) << "\n" << sql;
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(conn);
  return v;
}

// Entries of `dir` (names only), without the files SQLite and the maintainer manage beside
// a database (-wal, -shm, -journal, the maintainer lock).
inline std::set<std::string> DirEntries(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    auto ends = [&n](const std::string& s) {
      return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
    };
    if (ends("-wal") || ends("-shm") || ends("-journal") || ends("-maintd.lock")) continue;
    out.insert(n);
  }
  return out;
}

// The ids in a writer's --committed file (what it saw committed, in order).
inline std::vector<int64_t> ReadCommittedIds(const std::string& file) {
  std::vector<int64_t> ids;
  std::istringstream in(ReadFile(file));
  int64_t id;
  while (in >> id) ids.push_back(id);
  return ids;
}

// How many of `ids` are missing from writer_rows in `db` (0 = none lost).
inline int64_t MissingIds(const std::string& db, const std::vector<int64_t>& ids) {
  if (ids.empty()) return 0;
  std::string list;
  int64_t missing = 0;
  // Checked in chunks to keep the statements short.
  for (size_t i = 0; i < ids.size(); i += 500) {
    list.clear();
    size_t end = std::min(ids.size(), i + 500);
    for (size_t k = i; k < end; ++k) list += (list.empty() ? "" : ",") + std::to_string(ids[k]);
    int64_t present = QueryInt(db, "SELECT count(*) FROM writer_rows WHERE id IN (" + list + ")");
    missing += static_cast<int64_t>(end - i) - present;
  }
  return missing;
}

// Overwrites `count` pages from `first_page` (1-based) with junk. Call only while no SQLite
// connection of this process has the file open.
inline void OverwritePages(const std::string& path, int64_t first_page, int64_t count,
                           int64_t page_size = 4096) {
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << path;
  std::string junk(static_cast<size_t>(page_size), '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 7 + 13) & 0xff);
  for (int64_t p = first_page; p < first_page + count; ++p) {
    ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), (p - 1) * page_size),
              static_cast<ssize_t>(junk.size()));
  }
  ::fsync(fd);
  ::close(fd);
}

// Iterations of each crash scenario: MAINTD_CRASH_ITERATIONS (default `fallback`).
// How many times `what` occurs in `text` (a daemon's log, say).
inline int CountOf(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}

inline int CrashIterations(int fallback) {
  const char* v = std::getenv("MAINTD_CRASH_ITERATIONS");
  int n = v ? std::atoi(v) : 0;
  return n > 0 ? n : fallback;
}

inline ResolvedDatabase ReliabilityDb(const std::string& path, const std::string& name = "app") {
  ResolvedDatabase db;
  db.name = name;
  db.path = path;
  return db;
}

// Status code of GET `path` on 127.0.0.1:`port` (0 when nothing answered within 5 s).
inline int HttpGetStatus(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int status = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    (void)!::write(fd, req.data(), req.size());
    char buf[64] = {};
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    std::string head(buf, n > 0 ? static_cast<size_t>(n) : 0);
    if (head.rfind("HTTP/1.1 ", 0) == 0 && head.size() >= 12) status = std::stoi(head.substr(9, 3));
  }
  ::close(fd);
  return status;
}

// The HTTP port a daemon started with `listen: "127.0.0.1:0"` logged ("(port N)"); 0 if
// none within 10 s.
inline int DaemonPort(ChildProcess& daemon) {
  int port = 0;
  WaitFor(
      [&] {
        std::smatch m;
        std::string err = daemon.Stderr();
        if (std::regex_search(err, m, std::regex("\\(port ([0-9]+)\\)"))) port = std::stoi(m[1]);
        return port != 0;
      },
      std::chrono::seconds(10));
  return port;
}

// A separate process holding a write transaction on a database (an application in the
// middle of a long transaction): BEGIN IMMEDIATE (or EXCLUSIVE) and one write, then it
// waits until destroyed (SIGKILL). Construct it while this process has no connection open
// to `path`.
class LockHolder {
 public:
  LockHolder(const std::string& path, const std::string& begin = "BEGIN IMMEDIATE") {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      sqlite3* db = nullptr;
      char ok = '0';
      if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK &&
          sqlite3_exec(db,
                       (begin + "; CREATE TABLE IF NOT EXISTS lock_holder(x); "
                                "INSERT INTO lock_holder VALUES (1);")
                           .c_str(),
                       nullptr, nullptr, nullptr) == SQLITE_OK) {
        ok = '1';
      }
      (void)!::write(fds[1], &ok, 1);
      while (true) ::pause();
    }
    ::close(fds[1]);
    char c = 0;
    held_ = ::read(fds[0], &c, 1) == 1 && c == '1';
    ::close(fds[0]);
  }
  ~LockHolder() { Release(); }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;
  bool held() const { return held_; }
  // Kills the holder: its transaction is rolled back by the next opener.
  void Release() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  bool held_ = false;
};

}  // namespace maintd::test
