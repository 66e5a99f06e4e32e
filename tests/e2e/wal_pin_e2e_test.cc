// End-to-end: a separate reader process pins the WAL while a writer process keeps
// committing; the real daemon names the reader (status, /metrics, a wal_pin row, one log
// line), and once the reader commits the next checkpoint resets the WAL and the pin clears.
#include <signal.h>

#include <regex>

#include <gtest/gtest.h>

#include "tests/support/http.h"
#include "tests/support/log_capture.h"
#include "tests/support/reader.h"
#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

using std::chrono::seconds;

// The reader named in `status --json`'s "wal" object (null when none).
nlohmann::json StatusReader(const std::string& config, pid_t pid) {
  ProcessResult r = RunMaintd({"--config", config, "status", "--json"});
  if (r.exit_code != 0) return nullptr;
  auto j = nlohmann::json::parse(Trim(r.out), nullptr, false);
  if (j.is_discarded() || !j.contains("wal") || !j["wal"].contains("readers")) return nullptr;
  for (const auto& reader : j["wal"]["readers"]) {
    if (reader["pid"] == pid) return reader;
  }
  return nullptr;
}

// The value of `series{db="app"}` in the exposition; -1 when absent.
double Gauge(const std::string& body, const std::string& series) {
  std::smatch m;
  if (!std::regex_search(body, m, std::regex(series + "\\{db=\"app\"\\} ([0-9.e+]+)"))) return -1;
  return std::stod(m[1]);
}

TEST(WalPinE2E, NamesTheReaderThenClearsOnceItCommits) {
  TempDir dir;
  std::string db = dir.File("app.db");
  MakeWalDb(db, 500);
  Writer writer(db, dir.path(), 10);
  ASSERT_TRUE(writer.WaitForCommits(5, seconds(30)));
  Reader reader(db, dir.path());
  ASSERT_TRUE(reader.WaitReading(seconds(10)));
  ASSERT_TRUE(writer.WaitForCommits(20, seconds(30)));  // the WAL grows past its snapshot

  std::string config = dir.File("c.yaml");
  WriteFile(config, "http: { listen: \"127.0.0.1:0\" }\n"
                    "defaults:\n"
                    "  checkpoint: { every: 1s, truncate_wal_above: 64KiB }\n"
                    "  health: { quick_check_every: 1s, wal_pin_warning: 2s }\n"
                    "databases:\n  - name: app\n    path: " + db + "\n");
  ChildProcess daemon({MaintdBinary(), "--config", config, "run"}, {}, dir.path());
  int port = PortFromLog(daemon);
  ASSERT_NE(port, 0) << daemon.Stderr();

  // status (read-only, no lock) names the reader's pid and command at once.
  nlohmann::json named;
  ASSERT_TRUE(WaitFor([&] { return !(named = StatusReader(config, reader.pid())).is_null(); },
                      seconds(5)));
  EXPECT_NE(named["command"].get<std::string>().find("maintd-test-reader " + db),
            std::string::npos) << named.dump();
  EXPECT_GE(named["slot"].get<int>(), 0);

  // /metrics: a pin age, frames waiting.
  std::string body;
  ASSERT_TRUE(WaitFor(
      [&] {
        body = Get(port, "/metrics").body;
        return Gauge(body, "sqlite_maintd_wal_pin_age_seconds") >= 1;
      },
      seconds(30)))
      << body;
  EXPECT_GT(Gauge(body, "sqlite_maintd_wal_frames_not_checkpointed"), 0) << body;
  EXPECT_GE(Gauge(body, "sqlite_maintd_wal_unreset_seconds"), 1) << body;
  EXPECT_EQ(body.find("pid="), std::string::npos) << "no pid labels";

  // A wal_pin warning row names the pid.
  const std::string pid = std::to_string(reader.pid());
  const std::string warned = "SELECT coalesce(max(id), -1) FROM sqlite_health_checks WHERE "
                             "check_type = 'wal_pin' AND status = 'warning' AND "
                             "json_extract(details, '$.pid') = " + pid;
  ASSERT_TRUE(WaitFor([&] { return SilentQueryInt(db, warned) > 0; }, seconds(30)))
      << daemon.Stderr();
  ProcessResult text = RunMaintd({"--config", config, "status"});
  EXPECT_TRUE(std::regex_search(text.out, std::regex("WAL [0-9.]+ [KMG]?i?B pinned [0-9]+[smhd]"
                                                     "[0-9m]* by pid " + pid +
                                                     " \\(maintd-test-reader ")))
      << text.out;

  // The reader commits: the next checkpoint resets the log, the next health run is healthy.
  ASSERT_TRUE(reader.Release(seconds(10)));
  int64_t last_warning = SilentQueryInt(db, warned);
  auto newer = [&](const std::string& where) {
    return SilentQueryInt(db, "SELECT count(*) FROM sqlite_health_checks WHERE id > " +
                                  std::to_string(last_warning) + " AND " + where) > 0;
  };
  EXPECT_TRUE(WaitFor([&] { return newer("check_type = 'checkpoint' AND "
                                         "json_extract(details, '$.wal.log_reset')"); },
                      seconds(30)))
      << daemon.Stderr();
  EXPECT_TRUE(WaitFor([&] { return newer("check_type = 'wal_pin' AND status = 'healthy'"); },
                      seconds(30)));
  EXPECT_TRUE(WaitFor([&] { return CountOf(daemon.Stderr(), "cleared after") >= 1; }, seconds(10)));

  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(30)), 0);
  const std::string log = daemon.Stderr();
  EXPECT_EQ(CountOf(log, "WAL pinned by pid " + pid), 1) << log;
  EXPECT_EQ(CountOf(log, "cleared after"), 1) << log;
  EXPECT_TRUE(StatusReader(config, reader.pid()).is_null());
  nlohmann::json summary = writer.Stop();
  EXPECT_EQ(summary["errors"], 0) << summary.dump();
}

}  // namespace
}  // namespace maintd::test
