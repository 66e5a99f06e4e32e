// Every class of configuration error: the status is kConfig (exit 78) and the message names
// the source, the key path and the reason.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "daemon/config_yaml.h"

namespace maintd {
namespace {

struct ErrorCase {
  const char* what;
  std::string yaml;
  std::string key;     // expected key path ("" for line-level errors)
  std::string reason;  // expected substring after the key
};

void ExpectError(const ErrorCase& c) {
  SCOPED_TRACE(c.what);
  auto r = ParseConfigText(c.yaml, "/etc/test.yaml");
  ASSERT_FALSE(r.ok()) << c.yaml;
  EXPECT_EQ(r.status().code(), StatusCode::kConfig);
  EXPECT_EQ(ExitCodeFor(r.status()), 78);
  const std::string& m = r.status().message();
  std::string head = "/etc/test.yaml: " + (c.key.empty() ? "" : c.key + ": ");
  EXPECT_EQ(m.rfind(head, 0), 0u) << "message: " << m << "\nexpected start: " << head;
  EXPECT_NE(m.find(c.reason), std::string::npos) << "message: " << m << "\nreason: " << c.reason;
}

const std::string kDb = "databases:\n  - path: /data/a.db\n";

TEST(ConfigErrors, UnknownKeys) {
  for (const auto& c : std::vector<ErrorCase>{
           {"top level", "max_concurent_jobs: 2\n", "max_concurent_jobs",
            "unknown key (did you mean 'max_concurrent_jobs'?)"},
           {"top level, far from anything", "frobnicate: 1\n", "frobnicate",
            "unknown key (known keys: log, http"},
           {"policy key at top level", "checkpoint: { every: 1m }\n", "checkpoint",
            "belongs under defaults:"},
           {"in defaults", "defaults:\n  vacuum:\n    trigger_free_ration: 0.3\n",
            "defaults.vacuum.trigger_free_ration", "did you mean 'trigger_free_ratio'?"},
           {"rule in defaults", "defaults:\n  lease_requeue: []\n", "defaults.lease_requeue",
            "only in a databases: entry"},
           {"in a database", kDb + "    checkpoint: { evry: 1m }\n", "databases[0].checkpoint.evry",
            "unknown key (did you mean 'every'?)"},
           {"top of a database", kDb + "    create_mising: true\n", "databases[0].create_mising",
            "did you mean 'create_missing'?"},
           {"in a lease rule", kDb + "    lease_requeue:\n      - tabel: tasks\n",
            "databases[0].lease_requeue[0].tabel", "did you mean 'table'?"},
           {"in a retention rule",
            kDb + "    retention:\n      - table: events\n        delete_afterr: 9d\n",
            "databases[0].retention[0].delete_afterr", "did you mean 'delete_after'?"},
           {"in log", "log: { levle: info }\n", "log.levle", "did you mean 'level'?"},
           {"duplicate key", "max_concurrent_jobs: 1\nmax_concurrent_jobs: 2\n",
            "max_concurrent_jobs", "duplicate key"},
       }) {
    ExpectError(c);
  }
}

TEST(ConfigErrors, WrongTypes) {
  for (const auto& c : std::vector<ErrorCase>{
           {"list for a number", "max_concurrent_jobs: [1, 2]\n", "max_concurrent_jobs",
            "expected a whole number, found a list"},
           {"scalar for a map", "log: info\n", "log", "expected a map of keys, found 'info'"},
           {"map for a list", "databases: { path: /data/a.db }\n", "databases",
            "expected a list, found a map"},
           {"not a bool", "shutdown: { analyze: maybe }\n", "shutdown.analyze",
            "'maybe' is not true or false"},
           {"fraction for an integer", "defaults: { vacuum: { pages_per_step: 1.5 } }\n",
            "defaults.vacuum.pages_per_step", "is not a whole number"},
           {"text for a ratio", "defaults: { vacuum: { trigger_free_ratio: lots } }\n",
            "defaults.vacuum.trigger_free_ratio", "'lots' is not a number"},
           {"no value", "defaults: { busy_timeout: }\n", "defaults.busy_timeout",
            "has no value (expected a duration"},
           {"scalar document", "hello\n", "top level", "expected a map of keys"},
       }) {
    ExpectError(c);
  }
}

TEST(ConfigErrors, BadUnits) {
  for (const auto& c : std::vector<ErrorCase>{
           {"duration without unit", "defaults: { checkpoint: { every: 300 } }\n",
            "defaults.checkpoint.every", "no valid duration unit"},
           {"duration in words", "shutdown: { deadline: 5 minutes }\n", "shutdown.deadline",
            "no valid duration unit"},
           {"size unit", "defaults: { checkpoint: { truncate_wal_above: 64 parsecs } }\n",
            "defaults.checkpoint.truncate_wal_above",
            "no valid size unit (KiB, MiB, GiB, TiB: powers of 1024; KB, MB, GB, TB: powers of "
            "1000"},
           // A ratio where a percentage is meant would be 0 bytes, a silently disabled check.
           {"ratio for a percentage", "defaults: { health: { free_disk_warning: 0.1 } }\n",
            "defaults.health.free_disk_warning", "is a fraction: write a percentage (10%)"},
           {"time of day", "defaults: { analyze: { daily_at: \"25:00\" } }\n",
            "defaults.analyze.daily_at", "is not a time of day"},
           {"disk threshold", "defaults: { health: { free_disk_warning: 150% } }\n",
            "defaults.health.free_disk_warning", "not a percentage between 0% and 100%"},
           {"huge duration", "glob_rescan_every: 99999999999999999999d\n", "glob_rescan_every",
            "too long"},
       }) {
    ExpectError(c);
  }
}

TEST(ConfigErrors, BadEnums) {
  for (const auto& c : std::vector<ErrorCase>{
           {"checkpoint mode", "defaults: { checkpoint: { mode: sometimes } }\n",
            "defaults.checkpoint.mode",
            "'sometimes' is not one of none, passive, full, restart, truncate"},
           {"shutdown checkpoint", "shutdown: { checkpoint: full }\n", "shutdown.checkpoint",
            "'full' is not one of none, passive, truncate"},
           {"analyze mode", "defaults: { analyze: { mode: quick } }\n", "defaults.analyze.mode",
            "is not one of limited, full, optimize"},
           {"shutdown vacuum", "shutdown: { vacuum: partial }\n", "shutdown.vacuum",
            "is not one of incremental, full, none"},
           {"backup verify", "defaults: { backup: { verify: deep } }\n", "defaults.backup.verify",
            "is not one of none, quick, full"},
           {"time format", kDb + "    retention: [ { table: t, time_format: epoch } ]\n",
            "databases[0].retention[0].time_format", "is not one of unix, unix_ms, iso8601"},
           {"log level", "log: { level: verbose }\n", "log.level",
            "is not one of trace, debug, info, warn, error"},
           {"log format", "log: { format: xml }\n", "log.format", "is not one of text, json"},
       }) {
    ExpectError(c);
  }
}

TEST(ConfigErrors, OutOfRange) {
  for (const auto& c : std::vector<ErrorCase>{
           {"ratio above 1", "defaults: { vacuum: { trigger_free_ratio: 1.5 } }\n",
            "defaults.vacuum.trigger_free_ratio", "must be between 0 and 1"},
           {"negative ratio", "defaults: { vacuum: { trigger_free_ratio: -0.1 } }\n",
            "defaults.vacuum.trigger_free_ratio", "must not be negative"},
           {"factor below 1", "defaults: { vacuum: { min_free_disk_factor: 0.5 } }\n",
            "defaults.vacuum.min_free_disk_factor", "must be at least 1"},
           {"batch 0", kDb + "    lease_requeue: [ { table: t, batch: 0 } ]\n",
            "databases[0].lease_requeue[0].batch", "must be at least 1"},
           {"keep 0", "defaults: { backup: { keep: 0 } }\n", "defaults.backup.keep",
            "must be at least 1"},
           {"max_concurrent_jobs 0", "max_concurrent_jobs: 0\n", "max_concurrent_jobs",
            "must be at least 1"},
           {"negative integer", "defaults: { vacuum: { min_free_pages: -1 } }\n",
            "defaults.vacuum.min_free_pages", "must not be negative"},
           {"negative duration", "defaults: { busy_timeout: -5s }\n", "defaults.busy_timeout",
            "must not be negative"},
           {"negative size", "defaults: { health: { wal_warning: -1MiB } }\n",
            "defaults.health.wal_warning", "must not be negative"},
           {"huge integer", "defaults: { analyze: { analysis_limit: 99999999999999999999 } }\n",
            "defaults.analyze.analysis_limit", "is too large"},
           {"huge float", "defaults: { vacuum: { min_free_disk_factor: 1e999 } }\n",
            "defaults.vacuum.min_free_disk_factor", "is not a number"},
           {"zero lock hold", "defaults: { vacuum: { max_lock_hold: 0 } }\n",
            "defaults.vacuum.max_lock_hold", "must be at least 1ms"},
           {"critical below warning",
            "defaults: { health: { size_warning: 2GiB, size_critical: 1GiB } }\n",
            "defaults.health.size_critical", "is below size_warning"},
           {"bad listen address", "http: { listen: localhost }\n", "http.listen",
            "is not host:port"},
       }) {
    ExpectError(c);
  }
}

TEST(ConfigErrors, RelativePaths) {
  for (const auto& c : std::vector<ErrorCase>{
           {"path", "databases: [ { path: data/a.db } ]\n", "databases[0].path",
            "'data/a.db' is not an absolute path"},
           {"glob", "databases: [ { glob: \"t/*.db\" } ]\n", "databases[0].glob",
            "is not an absolute path"},
           {"journal", "journal: journal.db\n", "journal",
            "neither \"target\" nor an absolute path"},
           {"backup dir", "defaults: { backup: { dir: backups } }\n", "defaults.backup.dir",
            "is not an absolute path"},
           {"archive_to",
            kDb + "    retention: [ { table: t, archive_after: 1d, archive_to: a.db } ]\n",
            "databases[0].retention[0].archive_to", "is not an absolute path"},
           {"lock_dir", "lock_dir: run/locks\n", "lock_dir", "is not an absolute path"},
       }) {
    ExpectError(c);
  }
}

TEST(ConfigErrors, DatabaseEntries) {
  for (const auto& c : std::vector<ErrorCase>{
           {"path and glob", "databases: [ { path: /d/a.db, glob: \"/d/*.db\" } ]\n",
            "databases[0]", "exactly one of path: or glob:, found both"},
           {"neither", "databases: [ { name: a } ]\n", "databases[0]",
            "exactly one of path: or glob:, found neither"},
           {"duplicate names",
            "databases: [ { path: /d/a.db, name: x }, { path: /d/b.db, name: x } ]\n",
            "databases[1].name", "'x' is already the name of databases[0]"},
           {"duplicate stems", "databases: [ { path: /d/a.db }, { path: /e/a.db } ]\n",
            "databases[1].name", "'a' is already the name of databases[0]"},
           {"duplicate paths", "databases: [ { path: /d/a.db }, { path: /d/./a.db, name: b } ]\n",
            "databases[1].path", "is already listed as databases[0]"},
           {"name with glob", "databases: [ { glob: \"/d/*.db\", name: t } ]\n",
            "databases[0].name", "not allowed with glob:"},
           {"bad name", "databases: [ { path: /d/a.db, name: \"a/b\" } ]\n", "databases[0].name",
            "must not contain '/'"},
           {"journal is a database", "journal: /d/a.db\ndatabases: [ { path: /d/a.db } ]\n",
            "journal", "is also databases[0].path"},
       }) {
    ExpectError(c);
  }
}

TEST(ConfigErrors, Rules) {
  for (const auto& c : std::vector<ErrorCase>{
           {"archive_after without archive_to",
            kDb + "    retention: [ { table: t, archive_after: 30d } ]\n",
            "databases[0].retention[0].archive_after", "requires archive_to"},
           {"archive_to without archive_after",
            kDb + "    retention: [ { table: t, archive_to: /d/arch.db } ]\n",
            "databases[0].retention[0].archive_to", "requires archive_after"},
           {"archive_after > delete_after",
            kDb + "    retention: [ { table: t, archive_after: 100d, archive_to: /d/x.db, "
                  "delete_after: 90d } ]\n",
            "databases[0].retention[0].archive_after", "must not be longer than delete_after"},
           {"keep_where with ;",
            kDb + "    retention: [ { table: t, keep_where: \"1; DROP TABLE t\" } ]\n",
            "databases[0].retention[0].keep_where", "';' is not allowed"},
           {"empty keep_where", kDb + "    retention: [ { table: t, keep_where: \"  \" } ]\n",
            "databases[0].retention[0].keep_where", "must be a non-empty SQL expression"},
           {"table missing", kDb + "    lease_requeue: [ { every: 1m } ]\n",
            "databases[0].lease_requeue[0].table", "required key is missing"},
           {"max_attempts without attempts_column",
            kDb + "    lease_requeue: [ { table: t, max_attempts: 3 } ]\n",
            "databases[0].lease_requeue[0].max_attempts", "requires attempts_column"},
           {"same value twice", kDb + "    lease_requeue: [ { table: t, queued_value: leased } ]\n",
            "databases[0].lease_requeue[0].queued_value", "must differ from leased_value"},
           {"same column twice",
            kDb + "    lease_requeue: [ { table: t, expires_column: status } ]\n",
            "databases[0].lease_requeue[0].expires_column", "already used as status_column"},
           {"both time columns",
            kDb + "    lease_requeue: [ { table: t, expires_column: e, heartbeat_column: h } ]\n",
            "databases[0].lease_requeue[0].heartbeat_column", "found both"},
           {"no time column", kDb + "    lease_requeue: [ { table: t, expires_column: \"\" } ]\n",
            "databases[0].lease_requeue[0].expires_column", "found neither"},
           {"stale_after without heartbeat_column",
            kDb + "    lease_requeue: [ { table: t, stale_after: 1m } ]\n",
            "databases[0].lease_requeue[0].stale_after", "requires heartbeat_column"},
           {"stale_after 0",
            kDb + "    lease_requeue: [ { table: t, heartbeat_column: h, stale_after: 0s } ]\n",
            "databases[0].lease_requeue[0].stale_after", "must be at least"},
           {"counting down without a counter",
            kDb + "    lease_requeue: [ { table: t, attempts_direction: down } ]\n",
            "databases[0].lease_requeue[0].attempts_direction", "requires attempts_column"},
           {"counting down with max_attempts",
            kDb + "    lease_requeue: [ { table: t, attempts_column: n, attempts_direction: down,"
                  " max_attempts: 3 } ]\n",
            "databases[0].lease_requeue[0].max_attempts", "not used with attempts_direction"},
           {"counting down into the queued status",
            kDb + "    lease_requeue: [ { table: t, attempts_column: n, attempts_direction: down,"
                  " dead_value: queued } ]\n",
            "databases[0].lease_requeue[0].dead_value", "must differ"},
           {"owner value without owner column",
            kDb + "    lease_requeue: [ { table: t, owner_reset_value: \"\" } ]\n",
            "databases[0].lease_requeue[0].owner_reset_value", "requires owner_column"},
           {"owner value a list",
            kDb + "    lease_requeue: [ { table: t, owner_column: o, owner_reset_value: [1] } ]\n",
            "databases[0].lease_requeue[0].owner_reset_value", "null, a number or a string"},
           {"negative grace", kDb + "    lease_requeue: [ { table: t, grace: -1s } ]\n",
            "databases[0].lease_requeue[0].grace", "must not be negative"},
           {"rule list is a map", kDb + "    retention: { table: t }\n", "databases[0].retention",
            "expected a list, found a map"},
       }) {
    ExpectError(c);
  }
}

TEST(ConfigErrors, LineLevelErrors) {
  ::unsetenv("MAINTD_TEST_SURELY_UNSET");
  for (const auto& c : std::vector<ErrorCase>{
           {"unset env var", "log: { level: info }\nlock_dir: ${MAINTD_TEST_SURELY_UNSET}\n",
            "line 2", "environment variable MAINTD_TEST_SURELY_UNSET is not set"},
           {"unterminated ${", "lock_dir: ${HOME\n", "line 1", "unterminated ${"},
           {"bad variable name", "lock_dir: ${1HOME}\n", "line 1", "is not ${VAR}"},
           {"YAML syntax", "log: { level: info\nhttp: x\n", "", "invalid YAML"},
           {"two documents", "log: { level: info }\n---\nlog: { level: warn }\n", "line 2",
            "a second document starts here"},
           {"stray comma (yaml-cpp would loop)", "log: { level: info }\n, x\n", "", "invalid YAML"},
           {"not UTF-8", "log: { level: \"\xff\xfe\" }\n", "line 1", "not valid UTF-8"},
           {"overlong UTF-8", "lock_dir: \"/\xc0\xaf\"\n", "line 1", "not valid UTF-8"},
           {"control character", std::string("lock_dir: \"/a\x01\"\n"), "line 1",
            "control character 0x01"},
       }) {
    ExpectError(c);
  }
}

}  // namespace
}  // namespace maintd
