// Loading valid configs: defaults, env expansion, per-database merging, the shipped example
// files, NormalizedYaml round trips, and hostile input that must not crash.
#include "daemon/config_yaml.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "tests/support/test_util.h"

namespace maintd {
namespace {

Config MustParse(const std::string& yaml) {
  auto r = ParseConfigText(yaml, "test.yaml");
  EXPECT_TRUE(r.ok()) << r.status().message() << "\n" << yaml;
  return r.ok() ? *r : Config{};
}

std::string SourceFile(const std::string& rel) {
  return test::ReadFile(std::string(MAINTD_SOURCE_DIR) + "/" + rel);
}

TEST(ConfigYaml, EmptyAndCommentOnlyAreTheDefault) {
  const std::string expected = NormalizedYaml(DefaultConfig());
  for (const char* text : {"", "\n", "# nothing here\n   # still nothing\n", "---\n", "~\n"}) {
    auto r = ParseConfigText(text, "empty.yaml");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->source, "empty.yaml");
    EXPECT_TRUE(r->databases.empty());
    EXPECT_EQ(NormalizedYaml(*r), expected);
  }
  Config d = DefaultConfig();
  EXPECT_EQ(d.defaults.checkpoint.every, std::chrono::minutes(5));
  EXPECT_EQ(d.journal, "target");
  EXPECT_EQ(d.http_listen, "127.0.0.1:9187");
}

TEST(ConfigYaml, ReadsEveryTopLevelKey) {
  Config c = MustParse(
      "log: { level: debug, format: json }\n"
      "http: { listen: \"\" }\n"
      "max_concurrent_jobs: 3\n"
      "journal: /var/lib/maintd/./journal.db\n"
      "lock_dir: /run/maintd/\n"
      "glob_rescan_every: 30s\n"
      "shutdown: { deadline: 1m, vacuum: none, checkpoint: passive, analyze: off }\n");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_format, LogFormat::kJson);
  EXPECT_EQ(c.http_listen, "");
  EXPECT_EQ(c.max_concurrent_jobs, 3);
  EXPECT_EQ(c.journal, "/var/lib/maintd/journal.db");
  EXPECT_EQ(c.lock_dir, "/run/maintd");
  EXPECT_EQ(c.glob_rescan_every, std::chrono::seconds(30));
  EXPECT_EQ(c.shutdown.deadline, std::chrono::minutes(1));
  EXPECT_EQ(c.shutdown.vacuum, ShutdownVacuum::kNone);
  EXPECT_EQ(c.shutdown.checkpoint, CheckpointMode::kPassive);
  EXPECT_FALSE(c.shutdown.analyze);
}

TEST(ConfigYaml, OffDisablesDailyJobs) {
  Config c = MustParse(
      "defaults:\n  analyze: { daily_at: off }\n  health: { integrity_check_daily_at: \"05:30Z\" "
      "}\n");
  EXPECT_FALSE(c.defaults.analyze.daily_at.has_value());
  ASSERT_TRUE(c.defaults.health.integrity_check_daily_at.has_value());
  EXPECT_EQ(*c.defaults.health.integrity_check_daily_at, (TimeOfDay{5, 30, true}));
  EXPECT_NE(NormalizedYaml(c).find("daily_at: off"), std::string::npos);
}

TEST(ConfigYaml, DatabaseOverridesMergeKeyByKey) {
  // `databases:` before `defaults:` on purpose: the file order must not matter.
  Config c = MustParse(
      "databases:\n"
      "  - path: /data/queue.db\n"
      "    checkpoint: { every: 1m }\n"
      "    health: { size_warning: 1GiB }\n"
      "  - path: /data/other.db\n"
      "defaults:\n"
      "  checkpoint: { every: 10m, mode: full }\n"
      "  health: { wal_warning: 1GiB }\n");
  ASSERT_EQ(c.databases.size(), 2u);
  const DatabasePolicy& q = c.databases[0].policy;
  EXPECT_EQ(c.databases[0].name, "queue");
  EXPECT_EQ(q.checkpoint.every, std::chrono::minutes(1));  // overridden
  EXPECT_EQ(q.checkpoint.mode, CheckpointMode::kFull);     // sibling from defaults:
  EXPECT_EQ(q.checkpoint.truncate_wal_above, 64LL << 20);  // sibling from the built-in default
  EXPECT_EQ(q.health.size_warning, 1LL << 30);
  EXPECT_EQ(q.health.wal_warning, 1LL << 30);
  EXPECT_EQ(q.vacuum.trigger_free_ratio, 0.20);
  const DatabasePolicy& o = c.databases[1].policy;
  EXPECT_EQ(o.checkpoint.every, std::chrono::minutes(10));
  EXPECT_EQ(o.health.size_warning, 0);
  EXPECT_EQ(c.defaults.checkpoint.every, std::chrono::minutes(10));
}

TEST(ConfigYaml, RulesGetTheirDefaults) {
  Config c = MustParse(
      "databases:\n"
      "  - path: /data/q.db\n"
      "    lease_requeue: [ { table: tasks } ]\n"
      "    retention: [ { table: events, delete_after: 7d, keep_where: \"pinned = 1\" } ]\n");
  const auto& lr = c.databases[0].lease_requeue.at(0);
  EXPECT_EQ(lr.table, "tasks");
  EXPECT_EQ(lr.every, std::chrono::minutes(1));
  EXPECT_EQ(lr.status_column, "status");
  EXPECT_EQ(lr.batch, 500);
  EXPECT_EQ(lr.max_attempts, 0);
  EXPECT_EQ(lr.expires_column, "lease_expires_at");
  EXPECT_EQ(lr.heartbeat_column, "");
  EXPECT_EQ(lr.grace, std::chrono::seconds(30));
  EXPECT_EQ(lr.owner_reset_value.kind, SqlValue::Kind::kNull);
  EXPECT_EQ(lr.attempts_direction, AttemptsDirection::kUp);
  const auto& rr = c.databases[0].retention.at(0);
  EXPECT_EQ(rr.every, std::chrono::hours(1));
  EXPECT_EQ(rr.delete_after, std::chrono::hours(7 * 24));
  EXPECT_FALSE(rr.archive_after.has_value());
  EXPECT_EQ(rr.keep_where, "pinned = 1");
}

TEST(ConfigYaml, EnvExpansion) {
  ::setenv("MAINTD_TEST_DIR", "/srv/app", 1);
  ::setenv("MAINTD_TEST_EMPTY", "", 1);
  ::unsetenv("MAINTD_TEST_UNSET");
  auto r = ExpandEnv(
      "a: ${MAINTD_TEST_DIR}/x.db\n"
      "b: ${MAINTD_TEST_UNSET:-/fallback}\n"
      "c: ${MAINTD_TEST_EMPTY:-used-when-empty}\n"
      "d: [${MAINTD_TEST_EMPTY}]\n"
      "e: cost $$5 and ${MAINTD_TEST_UNSET:-}x\n"
      "f: a$b $ {x} $\n"
      "  # ${MAINTD_TEST_UNSET} in a comment line is left alone\n",
      "env.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r,
            "a: /srv/app/x.db\n"
            "b: /fallback\n"
            "c: used-when-empty\n"
            "d: []\n"
            "e: cost $5 and x\n"
            "f: a$b $ {x} $\n"
            "  # ${MAINTD_TEST_UNSET} in a comment line is left alone\n");

  Config c = MustParse("databases:\n  - path: ${MAINTD_TEST_DIR}/queue.db\n");
  EXPECT_EQ(c.databases.at(0).path, "/srv/app/queue.db");
  // A relative value becomes a relative path, which is then refused.
  ::setenv("MAINTD_TEST_DIR", "relative", 1);
  auto bad = ParseConfigText("databases:\n  - path: ${MAINTD_TEST_DIR}/queue.db\n", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("databases[0].path: 'relative/queue.db' is not an "
                                        "absolute path"),
            std::string::npos)
      << bad.status().message();
  ::unsetenv("MAINTD_TEST_DIR");
  ::unsetenv("MAINTD_TEST_EMPTY");
}

TEST(ConfigYaml, AnchorsAliasesAndMergeKeys) {
  Config c = MustParse(
      "defaults:\n"
      "  checkpoint: &cp { every: 2m, mode: truncate }\n"
      "databases:\n"
      "  - path: /d/a.db\n"
      "    checkpoint: { <<: *cp, every: 30s }\n"
      "    lease_requeue: &rules [ { table: jobs, batch: 7 } ]\n"
      "  - path: /d/b.db\n"
      "    lease_requeue: *rules\n");
  EXPECT_EQ(c.databases[0].policy.checkpoint.every, std::chrono::seconds(30));
  EXPECT_EQ(c.databases[0].policy.checkpoint.mode, CheckpointMode::kTruncate);
  EXPECT_EQ(c.databases[1].lease_requeue.at(0).batch, 7);
  // A merged map's unknown keys are still unknown.
  auto r = ParseConfigText("defaults:\n  vacuum: &v { keep: 3 }\n  backup: { <<: *v, kep: 2 }\n",
                           "m.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("defaults.vacuum.keep: unknown key"), std::string::npos)
      << r.status().message();
}

TEST(ConfigYaml, ExampleAndMinimalFilesParse) {
  ::unsetenv("DATA_DIR");
  Config example = MustParse(SourceFile("config/example.yaml"));
  ASSERT_EQ(example.databases.size(), 2u);
  const DatabaseConfig& queue = example.databases[0];
  EXPECT_EQ(queue.name, "queue");
  EXPECT_EQ(queue.path, "/data/queue.db");
  EXPECT_EQ(queue.policy.checkpoint.every, std::chrono::minutes(1));
  EXPECT_EQ(queue.lease_requeue.at(0).max_attempts, 5);
  EXPECT_EQ(queue.retention.at(0).archive_after, std::chrono::hours(30 * 24));
  EXPECT_EQ(queue.retention.at(0).keep_where, "status = 'in_progress'");
  EXPECT_EQ(example.databases[1].glob, "/data/tenants/*.db");
  EXPECT_EQ(example.databases[1].policy.backup.keep, 4);
  // Every value in `defaults:` of the example is the built-in default.
  Config reference = DefaultConfig();
  reference.databases = example.databases;
  reference.source = example.source;
  EXPECT_EQ(NormalizedYaml(example), NormalizedYaml(reference));

  Config minimal = MustParse(SourceFile("config/minimal.yaml"));
  ASSERT_EQ(minimal.databases.size(), 1u);
  EXPECT_EQ(minimal.databases[0].name, "app");
}

void ExpectRoundTrip(const Config& c) {
  std::string first = NormalizedYaml(c);
  auto again = ParseConfigText(first, "normalized.yaml");
  ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << first;
  EXPECT_EQ(NormalizedYaml(*again), first);
}

TEST(ConfigYaml, NormalizedYamlRoundTrips) {
  ExpectRoundTrip(DefaultConfig());
  ExpectRoundTrip(MustParse(SourceFile("config/example.yaml")));
  ExpectRoundTrip(
      MustParse("journal: \"/var/lib/m $$x/j.db\"\n"
                "defaults:\n"
                "  vacuum: { trigger_free_ratio: 0.123456789, pause_between_steps: 1.5s }\n"
                "  health: { free_disk_warning: 12.5%, size_warning: 1500 }\n"
                "  analyze: { daily_at: off }\n"
                "databases:\n"
                "  - path: /d/a.db\n"
                "    name: \"tenant-ä\"\n"
                "    retention:\n"
                "      - table: \"we\\\"ird\"\n"
                "        keep_where: \"note = 'tab\\there' OR note LIKE '%$${x}%'\"\n"
                "  - glob: \"/d/t/{a,b}*.db\"\n"
                "    create_missing: false\n"));
}

TEST(ConfigYaml, LeaseRuleKeysForRealQueueSchemas) {
  Config c = MustParse(
      "databases:\n"
      "  - path: /d/q.db\n"
      "    lease_requeue:\n"
      "      - { table: a, heartbeat_column: hb, stale_after: 2m, grace: 1s, owner_column: o,\n"
      "          owner_reset_value: \"\", attempts_column: n, attempts_direction: down }\n"
      "      - { table: b, owner_column: o, owner_reset_value: 0 }\n"
      "      - { table: c, owner_column: o, owner_reset_value: \"0\" }\n"
      "      - { table: d, owner_column: o, owner_reset_value: -1.5e3 }\n"
      "      - { table: e, owner_column: o, owner_reset_value: free }\n"
      "      - { table: f, owner_column: o, owner_reset_value: null, grace: 0s }\n");
  const auto& rules = c.databases.at(0).lease_requeue;
  ASSERT_EQ(rules.size(), 6u);
  EXPECT_EQ(rules[0].expires_column, "");  // the default applies to expiry rules only
  EXPECT_EQ(rules[0].heartbeat_column, "hb");
  EXPECT_EQ(rules[0].stale_after, std::chrono::minutes(2));
  EXPECT_EQ(rules[0].grace, std::chrono::seconds(1));
  EXPECT_EQ(rules[0].attempts_direction, AttemptsDirection::kDown);
  using K = SqlValue::Kind;
  EXPECT_EQ(rules[0].owner_reset_value.kind, K::kText);
  EXPECT_EQ(rules[0].owner_reset_value.text, "");
  EXPECT_EQ(rules[1].owner_reset_value.kind, K::kInteger);
  EXPECT_EQ(rules[1].owner_reset_value.integer, 0);
  EXPECT_EQ(rules[2].owner_reset_value.kind, K::kText);
  EXPECT_EQ(rules[2].owner_reset_value.text, "0");
  EXPECT_EQ(rules[3].owner_reset_value.kind, K::kReal);
  EXPECT_EQ(rules[3].owner_reset_value.real, -1500.0);
  EXPECT_EQ(rules[4].owner_reset_value.text, "free");
  EXPECT_EQ(rules[5].owner_reset_value.kind, K::kNull);
  EXPECT_EQ(rules[5].grace, Millis(0));
  ExpectRoundTrip(c);
  std::string printed = NormalizedYaml(c);
  for (const char* line : {"owner_reset_value: \"\"\n", "owner_reset_value: 0\n",
                           "owner_reset_value: \"0\"\n", "owner_reset_value: -1500.0\n",
                           "owner_reset_value: null\n", "stale_after: 2m\n",
                           "attempts_direction: down\n", "grace: 0\n"}) {
    EXPECT_NE(printed.find(line), std::string::npos) << line << printed;
  }
}

TEST(ConfigYaml, LoadConfigFile) {
  test::TempDir dir;
  std::string path = dir.File("c.yaml");
  test::WriteFile(path, "databases:\n  - path: /d/a.db\n    vacuum: { keep: 1 }\n");
  auto r = LoadConfigFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConfig);
  EXPECT_EQ(r.status().message(), path +
                                      ": databases[0].vacuum.keep: unknown key (known keys: "
                                      "check_every, trigger_free_ratio, min_free_pages, "
                                      "pages_per_step, pause_between_steps, max_lock_hold, "
                                      "convert_auto_vacuum, max_full_vacuum_stall, convert_at, "
                                      "full_when_no_auto_vacuum, "
                                      "min_free_disk_factor)");
  test::WriteFile(path, "max_concurrent_jobs: 2\n");
  auto ok = LoadConfigFile(path);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->source, path);
  EXPECT_EQ(ok->max_concurrent_jobs, 2);

  for (const std::string& bad : {dir.File("missing.yaml"), dir.path()}) {
    auto missing = LoadConfigFile(bad);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kConfig);
    EXPECT_EQ(missing.status().message().rfind(bad + ": ", 0), 0u) << missing.status().message();
  }
}

TEST(ConfigYaml, HostileInputGivesConfigErrorsNotCrashes) {
  std::vector<std::string> inputs = {
      std::string(100000, '[') + std::string(100000, ']'),
      std::string(50000, '{') + "a",
      [] {
        std::string s;
        for (int i = 0; i < 20000; ++i) s += "- ";
        return s + "x\n";
      }(),
      [] {
        std::string s;
        for (int i = 0; i < 3000; ++i) s += std::string(i, ' ') + "a:\n";
        return s;
      }(),
      "a: &a [*a]\n",
      "databases: &d [*d]\n",
      "defaults: { <<: [1, 2] }\n",
      "? [complex, key]\n: 1\n",
      "*undefined\n",
      "log: !!binary AAAA\n",
      // yaml-cpp 0.7 alone loops forever (allocating) on a ',' outside [ ] or { }.
      ",\n",
      ", x\n",
      "- a\n, b\n",
      "[a, b]\n, c\n",
      "# comment\n, with a comma\nlog: { level: info }\n",
      std::string("\xef\xbb\xbf") + "max_concurrent_jobs: \"\xed\xa0\x80\"\n",
  };
  for (const auto& text : inputs) {
    auto r = ParseConfigText(text, "hostile.yaml");
    ASSERT_FALSE(r.ok()) << text.substr(0, 80);
    EXPECT_EQ(r.status().code(), StatusCode::kConfig);
    EXPECT_EQ(r.status().message().rfind("hostile.yaml: ", 0), 0u) << r.status().message();
  }
}

TEST(ConfigYaml, RandomMutationsOfTheExampleNeverCrash) {
  const std::string example = SourceFile("config/example.yaml");
  std::mt19937 rng(12345);
  const std::string alphabet = "{}[]:-,&*!|>'\"#%@`?\n \t$0123456789abcz\x80\xff";
  int accepted = 0;
  for (int round = 0; round < 400; ++round) {
    std::string text = example;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % text.size();
      char ch = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text[pos] = ch;
          break;
        case 1:
          text.insert(pos, 1, ch);
          break;
        default:
          text.erase(pos, 1 + rng() % 8);
          break;
      }
    }
    auto r = ParseConfigText(text, "fuzz.yaml");
    if (r.ok()) {
      ++accepted;
      ExpectRoundTrip(*r);
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kConfig);
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations only touch comments
}

// http.metrics (issue 14's lean mode): full by default, summary on request, printed back by
// validate-config, anything else refused naming the key.
TEST(ConfigYaml, HttpMetricsDetail) {
  EXPECT_EQ(DefaultConfig().http_metrics, MetricsDetail::kFull);
  Config lean = MustParse("http: { listen: \"127.0.0.1:0\", metrics: summary }\n");
  EXPECT_EQ(lean.http_metrics, MetricsDetail::kSummary);
  EXPECT_NE(NormalizedYaml(lean).find("  metrics: summary\n"), std::string::npos)
      << NormalizedYaml(lean);
  ExpectRoundTrip(lean);
  auto bad = ParseConfigText("http: { metrics: lean }\n", "m.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("http.metrics: 'lean' is not one of full, summary"),
            std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace maintd
