// End-to-end: the HTTP endpoints and sd_notify, against the real daemon process.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <regex>

#include <gtest/gtest.h>

#include "tests/support/http.h"
#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

using std::chrono::seconds;

TEST(HttpE2E, EndpointsAndMetrics) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 500);
  std::string config = dir.File("c.yaml");
  WriteFile(config, "http: { listen: \"127.0.0.1:0\" }\n"
                    "defaults: { checkpoint: { every: 1s } }\n"
                    "databases:\n  - name: app\n    path: " + db + "\n");
  ChildProcess daemon({MaintdBinary(), "--config", config, "run"}, {}, dir.path());
  int port = PortFromLog(daemon);
  ASSERT_NE(port, 0) << daemon.Stderr();
  EXPECT_EQ(Get(port, "/healthz").status, 200);
  EXPECT_TRUE(WaitFor([&] { return Get(port, "/readyz").status == 200; }, seconds(10)));
  EXPECT_EQ(Get(port, "/nope").status, 404);
  EXPECT_EQ(RawHttp(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status,
            405);

  auto runs = [&] {
    std::smatch m;
    std::string body = Get(port, "/metrics").body;
    std::regex re("sqlite_maintd_job_runs_total\\{db=\"app\",task=\"checkpoint\"\\} ([0-9.e+]+)");
    return std::regex_search(body, m, re) ? std::stod(m[1]) : 0.0;
  };
  ASSERT_TRUE(WaitFor([&] { return runs() >= 1; }, seconds(15))) << Get(port, "/metrics").body;
  double first = runs();
  EXPECT_TRUE(WaitFor([&] { return runs() > first; }, seconds(10))) << "counter must move";
  std::string body = Get(port, "/metrics").body;
  for (const char* family :
       {"# TYPE sqlite_maintd_job_runs_total counter", "sqlite_maintd_job_failures_total",
        "# TYPE sqlite_maintd_job_duration_seconds histogram",
        "sqlite_maintd_job_last_success_timestamp_seconds", "sqlite_maintd_database_size_bytes",
        "sqlite_maintd_free_pages", "sqlite_maintd_wal_size_bytes"}) {
    EXPECT_NE(body.find(family), std::string::npos) << family << "\n" << body;
  }

  // Malformed and oversized requests are refused and the daemon keeps serving.
  EXPECT_EQ(RawHttp(port, "THIS IS NOT HTTP\r\n\r\n").status, 400);
  EXPECT_EQ(RawHttp(port, "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n").status,
            400);
  RawHttp(port, "GET /healthz HTTP/1.1\r\n");  // never finishes its headers
  EXPECT_EQ(Get(port, "/healthz").status, 200);
  EXPECT_TRUE(daemon.Running());
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(25)), 0);
}

// /metrics is streamed in pieces (64 KiB): chunked to HTTP/1.1 clients, up to the close to
// HTTP/1.0 ones, the header alone to HEAD; either way the whole text arrives, well formed,
// the process_* series last.
TEST(HttpE2E, MetricsStreamedInPieces) {
  TempDir dir;
  constexpr int kDbs = 30;  // ~10 KB of text each: several pieces
  for (int i = 0; i < kDbs; ++i) MakeWalDb(dir.File("t" + std::to_string(i) + ".db"), 10);
  std::string config = dir.File("c.yaml");
  WriteFile(config, "http: { listen: \"127.0.0.1:0\" }\n"
                    "databases:\n  - glob: \"" + dir.path() + "/*.db\"\n");
  ChildProcess daemon({MaintdBinary(), "--config", config, "run"}, {}, dir.path());
  int port = PortFromLog(daemon);
  ASSERT_NE(port, 0) << daemon.Stderr();
  ASSERT_TRUE(WaitFor([&] { return Get(port, "/readyz").status == 200; }, seconds(20)));
  const std::regex line(R"((# (HELP|TYPE) [a-z_]+ .+)|([a-z_]+(\{[^}]*\})? [-+0-9.eInfNa]+))");
  auto check = [&](const HttpReply& r, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_GT(r.body.size(), 3u * 64 * 1024);
    EXPECT_EQ(r.body.rfind("# HELP sqlite_maintd_job_runs_total ", 0), 0u) << r.body.substr(0, 200);
    EXPECT_TRUE(std::regex_search(r.body, std::regex("\nprocess_max_fds [0-9]+\n$")))
        << r.body.substr(r.body.size() - std::min<size_t>(r.body.size(), 300));
    size_t runs = 0, bad = 0, start = 0;
    for (size_t end; (end = r.body.find('\n', start)) != std::string::npos; start = end + 1) {
      std::string l = r.body.substr(start, end - start);
      if (!std::regex_match(l, line) && bad++ < 3) ADD_FAILURE() << "malformed: " << l;
      if (l.rfind("sqlite_maintd_job_runs_total{", 0) == 0) ++runs;
    }
    EXPECT_EQ(runs, kDbs * 6u) << "one series per database and default job";
  };
  HttpReply chunked = Get(port, "/metrics");
  EXPECT_EQ(chunked.status, 200);
  EXPECT_NE(chunked.headers.find("\r\ntransfer-encoding: chunked"), std::string::npos)
      << chunked.headers;
  check(chunked, "HTTP/1.1");
  HttpReply plain = RawHttp(port, "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(plain.headers.rfind("http/1.0 200 ok\r\n", 0), 0u) << plain.headers;
  EXPECT_EQ(plain.headers.find("transfer-encoding"), std::string::npos) << plain.headers;
  check(plain, "HTTP/1.0");
  HttpReply head = RawHttp(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(25)), 0);
}

TEST(HttpE2E, ReadyzIs503DuringShutdown) {
  TempDir dir;
  std::string db = dir.File("app.db");
  // Lots of free pages and a slow step policy: the shutdown vacuum runs until the deadline.
  ExecSql(db, "PRAGMA page_size=1024; PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;");
  MakeWalDb(db, 20000, 400);
  ExecSql(db, "DELETE FROM items WHERE id % 2 = 0;");
  std::string config = dir.File("c.yaml");
  WriteFile(config,
            "http: { listen: \"127.0.0.1:0\" }\n"
            "shutdown: { deadline: 3s, vacuum: incremental }\n"
            "defaults:\n  vacuum: { check_every: 24h, pages_per_step: 10, "
            "pause_between_steps: 50ms, min_free_pages: 1 }\n"
            "databases:\n  - path: " + db + "\n");
  ChildProcess daemon({MaintdBinary(), "--config", config, "run"}, {}, dir.path());
  int port = PortFromLog(daemon);
  ASSERT_NE(port, 0) << daemon.Stderr();
  ASSERT_TRUE(WaitFor([&] { return Get(port, "/readyz").status == 200; }, seconds(10)));
  daemon.Signal(SIGTERM);
  EXPECT_TRUE(WaitFor([&] { return Get(port, "/readyz").status == 503; }, seconds(2)));
  EXPECT_EQ(Get(port, "/healthz").status, 200);
  EXPECT_EQ(daemon.Wait(seconds(10)), 0);
}

// Receives sd_notify datagrams on a socket in the test's temp dir.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    timeval tv{0, 100000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { close(fd_); }
  // Collects datagrams until one contains `needle` or the timeout passes.
  bool WaitFor(const std::string& needle, seconds timeout) {
    return maintd::test::WaitFor(
        [&] {
          char buf[4096];
          ssize_t n = recv(fd_, buf, sizeof buf, 0);
          if (n > 0) received_ += std::string(buf, static_cast<size_t>(n)) + "\n";
          return received_.find(needle) != std::string::npos;
        },
        timeout);
  }
  const std::string& received() const { return received_; }

 private:
  std::string path_, received_;
  int fd_ = -1;
};

TEST(SystemdE2E, NotifiesReadyWatchdogAndStopping) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 100);
  NotifySocket sock(dir.File("notify.sock"));
  ChildProcess daemon({MaintdBinary(), "run", db},
                      {{"NOTIFY_SOCKET", dir.File("notify.sock")},
                       {"WATCHDOG_USEC", "400000"},
                       {"SQLITE_MAINTD_CONFIG", ""}},
                      dir.path());
  EXPECT_TRUE(sock.WaitFor("READY=1", seconds(10))) << sock.received() << daemon.Stderr();
  EXPECT_TRUE(sock.WaitFor("WATCHDOG=1", seconds(5))) << sock.received();
  EXPECT_TRUE(sock.WaitFor("STATUS=", seconds(5))) << sock.received();
  daemon.Signal(SIGTERM);
  EXPECT_TRUE(sock.WaitFor("STOPPING=1", seconds(5))) << sock.received();
  EXPECT_EQ(daemon.Wait(seconds(25)), 0);
}

}  // namespace
}  // namespace maintd::test
