// `status --summary`: one summary over many databases from header reads only. The figures
// must agree with what `status --json` reads through SQLite, and the problems (a database
// noted corrupt in its lock file, a file that is not a database) must be named.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace maintd::test {
namespace {

nlohmann::json StatusJson(const std::string& db) {
  ProcessResult r = RunMaintd({"status", "--json", db});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

TEST(StatusSummaryE2E, HeaderFiguresAgreeWithSqliteAndProblemsAreNamed) {
  TempDir dir;
  std::string plain = dir.File("plain.db");
  std::string freed = dir.File("freed.db");
  std::string noted = dir.File("noted.db");
  std::string junk = dir.File("junk.db");
  MakeWalDb(plain, 50, 100);
  MakeWalDb(freed, 6000, 1000);
  MakeWalDb(noted, 50, 100);
  // Most of freed.db's pages go to the freelist (above the vacuum trigger: 20% and 1000
  // pages), and the checkpoint brings the header up to date.
  ExecSql(freed, "DELETE FROM items WHERE id > 100; PRAGMA wal_checkpoint(TRUNCATE);");
  WriteFile(noted + "-maintd.lock",
            "0\nintegrity=critical at=2026-01-02T03:04:05Z problem=page 7: btree broken\n");
  WriteFile(junk, std::string(4096, 'x'));

  ProcessResult r = RunMaintd({"status", "--summary", "--json", plain, freed, noted, junk});
  EXPECT_EQ(r.exit_code, 1) << "a critical note and an unreadable file must fail the exit code\n"
                            << r.out << r.err;
  nlohmann::json s = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(s.is_object()) << r.out << r.err;
  EXPECT_EQ(s["databases"], 4);
  EXPECT_EQ(s["read"], 3);
  EXPECT_EQ(s["wal_mode"], 3);
  ASSERT_EQ(s["errors"].size(), 1u) << s.dump();
  EXPECT_EQ(s["errors"][0]["path"], junk);
  ASSERT_EQ(s["integrity_critical"].size(), 1u) << s.dump();
  EXPECT_EQ(s["integrity_critical"][0]["path"], noted);
  EXPECT_EQ(s["integrity_critical"][0]["problem"], "page 7: btree broken");
  EXPECT_EQ(s["above_vacuum_trigger"], 1);
  ASSERT_FALSE(s["most_free"].empty()) << s.dump();
  EXPECT_EQ(s["most_free"][0]["path"], freed);

  // The header's figures are SQLite's own (status --json reads them through pragmas).
  int64_t pages = 0, free_pages = 0;
  for (const std::string& db : {plain, freed, noted}) {
    nlohmann::json one = StatusJson(db);
    pages += one["page_count"].get<int64_t>();
    free_pages += one["freelist_count"].get<int64_t>();
    EXPECT_EQ(one["auto_vacuum"], "none");
  }
  EXPECT_GT(free_pages, 1000);
  EXPECT_EQ(s["pages"], pages) << s.dump();
  EXPECT_EQ(s["free_pages"], free_pages) << s.dump();

  // The text form says the same in one line, then the problems.
  ProcessResult text = RunMaintd({"status", "--summary", plain, freed, noted, junk});
  EXPECT_NE(text.out.find("databases=4 read=3 wal_mode=3"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("critical noted " + noted), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("error junk " + junk), std::string::npos) << text.out;
}

}  // namespace
}  // namespace maintd::test
