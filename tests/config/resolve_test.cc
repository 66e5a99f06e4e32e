// ResolveDatabases / DatabasesFromPaths / FindDatabase against real files in a temp dir.
#include "lib/config/resolve.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "daemon/config_yaml.h"
#include "tests/support/test_util.h"

namespace maintd {
namespace {

namespace fs = std::filesystem;

class ResolveTest : public ::testing::Test {
 protected:
  Config Parse(const std::string& yaml) {
    // ${T} is the temp dir, through the same env expansion users get.
    ::setenv("MAINTD_RESOLVE_T", dir_.path().c_str(), 1);
    std::string text = yaml;
    for (size_t pos; (pos = text.find("${T}")) != std::string::npos;) {
      text.replace(pos, 4, "${MAINTD_RESOLVE_T}");
    }
    auto r = ParseConfigText(text, "resolve.yaml");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : Config{};
  }
  std::string Touch(const std::string& rel) {
    std::string path = dir_.File(rel);
    fs::create_directories(fs::path(path).parent_path());
    test::WriteFile(path, "");
    return path;
  }
  static std::vector<std::string> Names(const std::vector<ResolvedDatabase>& dbs) {
    std::vector<std::string> out;
    for (const auto& db : dbs) out.push_back(db.name);
    return out;
  }
  static void ExpectConfigError(const Status& s, const std::string& text) {
    EXPECT_EQ(s.code(), StatusCode::kConfig) << s.message();
    EXPECT_NE(s.message().find(text), std::string::npos) << s.message();
  }

  test::TempDir dir_;
};

TEST_F(ResolveTest, PathEntry) {
  std::string a = Touch("data/queue.db");
  Config c = Parse(
      "databases:\n  - path: ${T}/data/queue.db\n    busy_timeout: 9s\n"
      "    lease_requeue: [ { table: tasks } ]\n");
  auto dbs = ResolveDatabases(c);
  ASSERT_TRUE(dbs.ok()) << dbs.status().message();
  ASSERT_EQ(dbs->size(), 1u);
  EXPECT_EQ((*dbs)[0].name, "queue");
  EXPECT_EQ((*dbs)[0].path, a);
  EXPECT_FALSE((*dbs)[0].create_missing);
  EXPECT_EQ((*dbs)[0].policy.busy_timeout, std::chrono::seconds(9));
  EXPECT_EQ((*dbs)[0].lease_requeue.at(0).table, "tasks");
}

TEST_F(ResolveTest, MissingPathIsAnErrorUnlessCreateMissing) {
  Config c = Parse("databases:\n  - path: ${T}/nope.db\n");
  auto dbs = ResolveDatabases(c);
  ASSERT_FALSE(dbs.ok());
  ExpectConfigError(dbs.status(), "resolve.yaml: databases[0].path: " + dir_.File("nope.db") +
                                      " does not exist (set create_missing: true");

  Config create = Parse("databases:\n  - path: ${T}/new.db\n    create_missing: true\n");
  auto ok = ResolveDatabases(create);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_TRUE((*ok)[0].create_missing);
  EXPECT_EQ((*ok)[0].path, dir_.File("new.db"));
  EXPECT_FALSE(fs::exists(dir_.File("new.db")));  // created later by the daemon, not here

  Touch("adir.db/x");
  auto not_file = ResolveDatabases(Parse("databases:\n  - path: ${T}/adir.db\n"));
  ASSERT_FALSE(not_file.ok());
  ExpectConfigError(not_file.status(), "is not a regular file");
}

TEST_F(ResolveTest, GlobSkipsCompanionFilesAndBackups) {
  for (const char* f :
       {"t/b.db", "t/a.db", "t/a.db-wal", "t/a.db-shm", "t/b.db-journal", "t/a.db-maintd.lock",
        "t/a-20261122T030000Z.db", "t/a-20261122T030000Z.db.tmp",
        "t/a.db.pre-restore-20261122T030000Z", "t/backups/a-x.db", "t/dir.db/inner", "t/c.txt"}) {
    Touch(f);
  }
  Config c =
      Parse("databases:\n  - glob: \"${T}/t/{*,*/*}.db\"\n    vacuum: { min_free_pages: 7 }\n");
  auto dbs = ResolveDatabases(c);
  ASSERT_TRUE(dbs.ok()) << dbs.status().message();
  EXPECT_EQ(Names(*dbs), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*dbs)[0].path, dir_.File("t/a.db"));
  EXPECT_EQ((*dbs)[1].policy.vacuum.min_free_pages, 7);

  // Files in the configured backup dir and the central journal are ours, not tenants.
  Touch("u/x.db");
  Touch("u/journal.db");
  Touch("u/bk/x-copy.db");
  Config c2 = Parse(
      "journal: ${T}/u/journal.db\ndatabases:\n  - glob: \"${T}/u/{*,*/*}.db\"\n"
      "    backup: { dir: ${T}/u/bk }\n");
  auto dbs2 = ResolveDatabases(c2);
  ASSERT_TRUE(dbs2.ok()) << dbs2.status().message();
  EXPECT_EQ(Names(*dbs2), (std::vector<std::string>{"x"}));
}

TEST_F(ResolveTest, GlobMatchingNothingIsFine) {
  auto dbs = ResolveDatabases(Parse("databases:\n  - glob: \"${T}/none/*.db\"\n"));
  ASSERT_TRUE(dbs.ok()) << dbs.status().message();
  EXPECT_TRUE(dbs->empty());
}

TEST_F(ResolveTest, DuplicatesAreErrors) {
  Touch("d/a.db");
  Touch("e/a.db");
  auto same_file =
      ResolveDatabases(Parse("databases:\n  - path: ${T}/d/a.db\n  - glob: \"${T}/d/*.db\"\n"));
  ASSERT_FALSE(same_file.ok());
  ExpectConfigError(same_file.status(),
                    "databases[1].glob: " + dir_.File("d/a.db") + " is already databases[0].path");

  fs::create_symlink(dir_.File("d/a.db"), dir_.File("link.db"));
  auto via_link =
      ResolveDatabases(Parse("databases:\n  - path: ${T}/d/a.db\n  - path: ${T}/link.db\n"));
  ASSERT_FALSE(via_link.ok());
  ExpectConfigError(via_link.status(),
                    "databases[1].path: " + dir_.File("link.db") + " is already databases[0].path");

  auto same_name =
      ResolveDatabases(Parse("databases:\n  - glob: \"${T}/d/*.db\"\n  - glob: \"${T}/e/*.db\"\n"));
  ASSERT_FALSE(same_name.ok());
  ExpectConfigError(same_name.status(), "two databases are named 'a'");
}

TEST_F(ResolveTest, ArchiveMustNotBeTheDatabase) {
  Touch("q.db");
  auto dbs =
      ResolveDatabases(Parse("databases:\n  - path: ${T}/q.db\n    retention:\n      - table: t\n"
                             "        archive_after: 1d\n        archive_to: ${T}/./q.db\n"));
  ASSERT_FALSE(dbs.ok());
  ExpectConfigError(dbs.status(), "databases[0].retention[0].archive_to: ");
}

TEST_F(ResolveTest, DatabasesFromPaths) {
  Touch("x/app.db");
  Touch("y/app.db");
  Config c = Parse("defaults: { busy_timeout: 3s }\n");
  std::string cwd = fs::current_path().string();
  ASSERT_EQ(::chdir(dir_.path().c_str()), 0);
  auto dbs = DatabasesFromPaths(c, {"x/app.db", dir_.File("y/app.db"), "./x/app.db"});
  auto missing = DatabasesFromPaths(c, {"x/app.db", "nope.db"});
  ASSERT_EQ(::chdir(cwd.c_str()), 0);

  ASSERT_TRUE(dbs.ok()) << dbs.status().message();
  ASSERT_EQ(dbs->size(), 2u);  // ./x/app.db is x/app.db again
  EXPECT_EQ((*dbs)[0].path, dir_.File("x/app.db"));
  EXPECT_EQ((*dbs)[0].name, "app");
  EXPECT_EQ((*dbs)[1].name, dir_.File("y/app.db"));  // stem taken: named by its path
  EXPECT_EQ((*dbs)[0].policy.busy_timeout, std::chrono::seconds(3));
  EXPECT_TRUE((*dbs)[0].lease_requeue.empty());
  ASSERT_FALSE(missing.ok());
  ExpectConfigError(missing.status(), dir_.File("nope.db") + ": no such database file");
}

TEST_F(ResolveTest, FindDatabaseByNameAndByPath) {
  Touch("data/queue.db");
  Touch("tenants/acme.db");
  Touch("other.db");
  Config c = Parse(
      "defaults: { busy_timeout: 2s }\n"
      "databases:\n"
      "  - name: jobs\n    path: ${T}/data/queue.db\n    busy_timeout: 7s\n"
      "  - glob: \"${T}/tenants/*.db\"\n    busy_timeout: 8s\n"
      "  - path: ${T}/later.db\n");  // missing, not create_missing
  auto by_name = FindDatabase(c, "jobs");
  ASSERT_TRUE(by_name.ok()) << by_name.status().message();
  EXPECT_EQ(by_name->path, dir_.File("data/queue.db"));
  EXPECT_EQ(by_name->policy.busy_timeout, std::chrono::seconds(7));

  auto by_path = FindDatabase(c, dir_.File("data/../data/queue.db"));
  ASSERT_TRUE(by_path.ok()) << by_path.status().message();
  EXPECT_EQ(by_path->name, "jobs");

  auto glob_name = FindDatabase(c, "acme");
  ASSERT_TRUE(glob_name.ok()) << glob_name.status().message();
  EXPECT_EQ(glob_name->policy.busy_timeout, std::chrono::seconds(8));

  auto unconfigured = FindDatabase(c, dir_.File("other.db"));
  ASSERT_TRUE(unconfigured.ok()) << unconfigured.status().message();
  EXPECT_EQ(unconfigured->name, "other");
  EXPECT_EQ(unconfigured->policy.busy_timeout, std::chrono::seconds(2));

  auto configured_missing = FindDatabase(c, "later");
  ASSERT_FALSE(configured_missing.ok());
  ExpectConfigError(configured_missing.status(), "databases[2].path: ");

  auto neither = FindDatabase(c, "nosuch");
  ASSERT_FALSE(neither.ok());
  EXPECT_EQ(neither.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(neither.status().message().find("'nosuch' is neither the name of a configured "
                                            "database nor an existing database file"),
            std::string::npos)
      << neither.status().message();
}

}  // namespace
}  // namespace maintd
