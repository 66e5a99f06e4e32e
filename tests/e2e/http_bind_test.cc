// End-to-end: an http.listen that cannot be bound, with the real binary. Given in the config
// file, it is a startup error (exit 75, the key and the address named, no database touched);
// the default address, taken, only costs the endpoints.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

using std::chrono::seconds;

// A TCP socket listening on 127.0.0.1:`port` (0: any free port) while alive; ok() is false
// when the port was taken already.
class ListeningSocket {
 public:
  explicit ListeningSocket(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && listen(fd_, 1) == 0;
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ok_ ? ntohs(addr.sin_port) : port;
  }
  ~ListeningSocket() { close(fd_); }
  int port() const { return port_; }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  bool ok_ = false;
};

TEST(HttpBindE2E, ConfiguredAddressInUseIsAStartupError) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 10);
  ListeningSocket taken(0);
  ASSERT_TRUE(taken.ok());
  std::string address = "127.0.0.1:" + std::to_string(taken.port());
  std::string config = dir.File("c.yaml");
  WriteFile(config, "http: { listen: \"" + address + "\" }\n"
                    "databases:\n  - name: app\n    path: " + db + "\n");
  auto r = RunMaintd({"--config", config, "run"}, {}, seconds(30));
  EXPECT_EQ(r.exit_code, 75) << r.err;
  EXPECT_NE(r.err.find(config + ": http.listen: cannot listen on " + address), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("sqlite-maintd started"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db + "-maintd.lock")) << "no database is taken over";
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_%'"), 0);
}

TEST(HttpBindE2E, ConfiguredHostNameIsAConfigError) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 10);
  std::string config = dir.File("c.yaml");
  WriteFile(config, "http: { listen: \"localhost:0\" }\ndatabases:\n  - path: " + db + "\n");
  auto r = RunMaintd({"--config", config, "run"}, {}, seconds(30));
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find(config + ": http.listen: 'localhost' is not an IP address"),
            std::string::npos)
      << r.err;
}

TEST(HttpBindE2E, TakenDefaultAddressOnlyCostsTheEndpoints) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 10);
  // The default http.listen, held by this test (other tests' daemons may hold it for a while).
  std::unique_ptr<ListeningSocket> taken;
  if (!WaitFor([&] { return (taken = std::make_unique<ListeningSocket>(9187))->ok(); },
               seconds(30))) {
    GTEST_SKIP() << "127.0.0.1:9187 stayed taken by another process for 30 s";
  }
  ChildProcess daemon({MaintdBinary(), "run", db}, {{"SQLITE_MAINTD_CONFIG", ""}}, dir.path());
  EXPECT_TRUE(WaitFor([&] { return daemon.Stderr().find("sqlite-maintd started") !=
                                   std::string::npos; },
                      seconds(20)))
      << daemon.Stderr();
  EXPECT_NE(daemon.Stderr().find("HTTP disabled: default http.listen: cannot listen on "
                                 "127.0.0.1:9187"),
            std::string::npos)
      << daemon.Stderr();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(25)), 0) << daemon.Stderr();
}

}  // namespace
}  // namespace maintd::test
