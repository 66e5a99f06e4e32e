// docs/monitoring/ against the real thing: promtool checks and unit-tests the shipped alert
// rules; a live daemon's /metrics passes `promtool check metrics` and has every metric the
// dashboard reads; a real Prometheus (Debian's 2.42, on loopback) scrapes the daemon and
// every selector of every alert and every dashboard query selects at least one series,
// which proves that the labels the rules filter on (task=, db=, job=) survive a scrape.
// Skipped only when promtool/prometheus are absent (scripts/setup-deps.sh installs them).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include <yaml-cpp/yaml.h>

#include "tests/support/http.h"
#include "tests/support/monitoring_tools.h"
#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

using std::chrono::seconds;

std::string Promtool() { return FindProgram("promtool"); }

#define REQUIRE_PROGRAM(path, name)                                                  \
  if ((path).empty()) {                                                               \
    GTEST_SKIP() << name << " not installed (Debian package `prometheus`; "          \
                 << "scripts/setup-deps.sh installs it for the tests)";               \
  }

TEST(PromqlSelectors, FindsMetricsNotFunctionsOrLabels) {
  auto s = Selectors(
      R"(histogram_quantile(0.99, sum by (task, le) (rate(a_bucket{db=~"$db"}[5m]))) )"
      R"(+ on (db) group_left b unless c{x="y{z}"} > 1e3 * time())");
  ASSERT_EQ(s.size(), 3u) << ::testing::PrintToString(s);
  EXPECT_EQ(s[0], R"(a_bucket{db=~"$db"})");
  EXPECT_EQ(s[1], "b");
  EXPECT_EQ(s[2], R"(c{x="y{z}"})");
}

TEST(AlertRules, PromtoolChecksAndUnitTestsPass) {
  std::string promtool = Promtool();
  REQUIRE_PROGRAM(promtool, "promtool");
  std::string out;
  EXPECT_EQ(RunTool({promtool, "check", "rules", SourceFile("docs/monitoring/alerts.yaml")}, &out), 0)
      << out;
  EXPECT_EQ(RunTool({promtool, "test", "rules", SourceFile("docs/monitoring/alerts_test.yaml")},
                    &out),
            0)
      << out;
}

// The Kubernetes PrometheusRule ships the same rules as docs/monitoring/alerts.yaml.
TEST(AlertRules, PrometheusRuleMatchesTheRulesFile) {
  YAML::Node rules = YAML::LoadFile(SourceFile("docs/monitoring/alerts.yaml"));
  YAML::Node kube = YAML::LoadFile(SourceFile("docs/kubernetes/prometheus-rule.yaml"));
  ASSERT_EQ(kube["kind"].as<std::string>(), "PrometheusRule");
  EXPECT_EQ(YAML::Dump(kube["spec"]["groups"]), YAML::Dump(rules["groups"]))
      << "regenerate docs/kubernetes/prometheus-rule.yaml (docs/monitoring/README.md)";
}

// One daemon with two databases, everything the dashboard and the rules read configured:
// backups, a lease rule, a retention rule.
class LiveDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string app = dir_.File("app.db");
    MakeWalDb(app, 300);
    std::string queue = dir_.File("queue.db");
    ExecSql(queue,
            "PRAGMA journal_mode=WAL;"
            "CREATE TABLE tasks(id INTEGER PRIMARY KEY, status TEXT, lease_expires_at INTEGER,"
            " leased_by TEXT, attempts INTEGER NOT NULL DEFAULT 0);"
            "CREATE TABLE events(id INTEGER PRIMARY KEY, created_at INTEGER, status TEXT);");
    config_ = dir_.File("c.yaml");
    WriteFile(config_, "http: { listen: \"127.0.0.1:0\" }\n"
                       "defaults:\n"
                       "  checkpoint: { every: 1s }\n"
                       "  backup: { every: 1h, dir: " + dir_.File("backups") + " }\n"
                       "databases:\n"
                       "  - name: app\n    path: " + app + "\n"
                       "  - name: queue\n    path: " + queue + "\n"
                       "    lease_requeue: [{ table: tasks, every: 1s, attempts_column: attempts, max_attempts: 5 }]\n"
                       "    retention: [{ table: events, time_column: created_at, "
                       "delete_after: 30d, every: 1s }]\n");
    daemon_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{MaintdBinary(), "--config", config_, "run"},
        std::map<std::string, std::string>{}, dir_.path());
    port_ = PortFromLog(*daemon_);
    ASSERT_NE(port_, 0) << daemon_->Stderr();
    // Every family the shipped files read exists once the first runs are done.
    ASSERT_TRUE(WaitFor(
        [&] {
          std::string body = Get(port_, "/metrics").body;
          return body.find("sqlite_maintd_job_last_success_timestamp_seconds{db=\"app\","
                           "task=\"backup\"}") != std::string::npos &&
                 body.find("sqlite_maintd_health_status{") != std::string::npos &&
                 body.find("sqlite_maintd_wal_frames_not_checkpointed{db=\"app\"}") !=
                     std::string::npos &&
                 body.find("sqlite_maintd_database_size_bytes{db=\"queue\"}") != std::string::npos;
        },
        seconds(30)))
        << Get(port_, "/metrics").body << daemon_->Stderr();
  }

  TempDir dir_;
  std::string config_;
  std::unique_ptr<ChildProcess> daemon_;
  int port_ = 0;
};

TEST_F(LiveDaemon, PromtoolAcceptsTheMetricsAndTheDashboardNamesExist) {
  std::string body = Get(port_, "/metrics").body;
  std::string promtool = Promtool();
  if (!promtool.empty()) {
    std::string file = dir_.File("metrics.txt");
    WriteFile(file, body);
    std::string out;
    EXPECT_EQ(RunTool({promtool, "check", "metrics"}, &out, file), 0) << out;
    EXPECT_EQ(out, "") << "promtool check metrics: lint problems";
  }
  // Names of the series in the scrape (histograms: _bucket, _sum, _count).
  std::set<std::string> names;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  std::ifstream in(SourceFile("docs/monitoring/dashboard.json"));
  nlohmann::json dashboard = nlohmann::json::parse(in);
  auto exprs = DashboardExpressions(dashboard);
  ASSERT_GE(exprs.size(), 15u);
  for (const std::string& expr : exprs) {
    auto metrics = MetricNames(expr);
    EXPECT_FALSE(metrics.empty() && expr.find("up{") == std::string::npos) << expr;
    for (const std::string& name : metrics) {
      EXPECT_TRUE(names.count(name)) << name << " (dashboard: " << expr << ") not in /metrics";
    }
  }
  for (const char* variable : {"db", "job", "datasource"}) {
    bool found = false;
    for (const auto& v : dashboard["templating"]["list"]) found = found || v["name"] == variable;
    EXPECT_TRUE(found) << "dashboard variable $" << variable;
  }
}

// Prometheus's /api/v1/query: the result vector (empty on error, with a test failure).
nlohmann::json Query(int port, const std::string& promql) {
  HttpReply reply = HttpGet(port, "/api/v1/query?query=" + UrlEncode(promql));
  auto json = nlohmann::json::parse(reply.body, nullptr, false);
  if (json.is_discarded() || json.value("status", "") != "success") {
    ADD_FAILURE() << "query failed: " << promql << "\n" << reply.status << " " << reply.body;
    return nlohmann::json::array();
  }
  return json["data"]["result"];
}

TEST_F(LiveDaemon, RealPrometheusSelectsSeriesForEveryAlertAndPanel) {
  std::string prometheus = FindProgram("prometheus");
  REQUIRE_PROGRAM(prometheus, "prometheus");
  int prom_port = FreeLoopbackPort();
  ASSERT_NE(prom_port, 0);
  std::string prom_config = dir_.File("prometheus.yml");
  // The job name is the one the shipped SqliteMaintdDown rule expects; the rules are loaded
  // too, so Prometheus itself validates them.
  WriteFile(prom_config, "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
                         "rule_files: [" + SourceFile("docs/monitoring/alerts.yaml") + "]\n"
                         "scrape_configs:\n"
                         "  - job_name: sqlite-maintd\n"
                         "    static_configs: [{ targets: ['127.0.0.1:" +
                             std::to_string(port_) + "'] }]\n");
  ChildProcess prom({prometheus, "--config.file=" + prom_config,
                     "--storage.tsdb.path=" + dir_.File("tsdb"),
                     "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                     "--log.level=warn"},
                    {}, dir_.File("."));
  ASSERT_TRUE(WaitFor([&] { return HttpGet(prom_port, "/-/ready").status == 200; }, seconds(30)))
      << prom.Stderr();
  // Three scrapes or more: rate() and increase() need two samples in their window.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = Query(prom_port, "count_over_time(sqlite_maintd_build_info[1m]) >= 3");
        return !r.empty();
      },
      seconds(30)))
      << prom.Stderr();

  // Alerts: every selector in every expression selects at least one series, and the whole
  // expression evaluates.
  auto alerts = AlertExpressions(SourceFile("docs/monitoring/alerts.yaml"));
  ASSERT_GE(alerts.size(), 10u);
  for (const std::string& expr : alerts) {
    Query(prom_port, expr);
    for (const std::string& selector : Selectors(expr)) {
      EXPECT_FALSE(Query(prom_port, selector).empty())
          << "alert selector " << selector << " selects nothing (in: " << expr << ")";
    }
  }
  // Dashboard: every query, with its variables set to All, returns series.
  std::ifstream in(SourceFile("docs/monitoring/dashboard.json"));
  for (std::string expr : DashboardExpressions(nlohmann::json::parse(in))) {
    std::string original = expr;
    expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "30s");
    expr = std::regex_replace(expr, std::regex(R"(\$db\b)"), ".*");
    expr = std::regex_replace(expr, std::regex(R"(\$job\b)"), ".+");
    EXPECT_FALSE(Query(prom_port, expr).empty()) << "dashboard query selects nothing: " << original;
  }
  // The label Prometheus owns is its own: the daemon's task label arrives unrenamed.
  EXPECT_TRUE(Query(prom_port, "sqlite_maintd_job_runs_total{exported_job!=\"\"}").empty());
  EXPECT_FALSE(
      Query(prom_port, "sqlite_maintd_job_runs_total{job=\"sqlite-maintd\",task=\"checkpoint\"}")
          .empty());
}

}  // namespace
}  // namespace maintd::test
