// Controls, so that the gate suite can fail for the right reason only: the fixture really
// is corrupt (100+ quick_check problems) and, in WAL mode, has committed frames in its -wal
// that the damage leaves alone; reading it the way the suite does writes nothing; and the
// same fixture without the damage is written by `once` (journal tables created), which the
// byte comparison sees.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/gate/gate_expect.h"

namespace maintd::test {
namespace {

class GateControl : public ::testing::TestWithParam<Flavour> {};

TEST_P(GateControl, FixtureIsCorruptAndItsWalHasCommittedFrames) {
  Flavour flavour = GetParam();
  GateWorld w(flavour, JournalKind::kTarget);
  EXPECT_GE(w.overwritten().size(), 100u);
  auto problems = ReadOnlyLines(w.db(), "PRAGMA quick_check(1000)");
  EXPECT_GE(problems.size(), 100u) << (problems.empty() ? "" : problems.front());
  EXPECT_EQ(JournalTablesIn(w.db()), 0);
  EXPECT_FALSE(std::filesystem::exists(w.db() + "-maintd.lock"));
  if (flavour == Flavour::kWal) {
    std::set<int64_t> in_wal = WalPages(w.db() + "-wal");
    EXPECT_FALSE(in_wal.empty()) << "no frames in the -wal";
    for (int64_t page : w.overwritten()) EXPECT_EQ(in_wal.count(page), 0u) << page;
    // The three commits are read through the -wal: they are committed frames.
    EXPECT_EQ(ReadOnlyRows(w.db(), "SELECT count(*) FROM small"), std::vector<std::string>{"3"});
    EXPECT_EQ(ReadOnlyRows(w.db(), "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  } else {
    EXPECT_FALSE(std::filesystem::exists(w.db() + "-wal"));
    EXPECT_EQ(ReadOnlyRows(w.db(), "PRAGMA journal_mode"), std::vector<std::string>{"delete"});
  }
  ExpectSameBytes(w.bytes(), w.db(), "the suite's own read-only queries");
}

TEST_P(GateControl, OnceWritesTheSameFixtureWithoutTheDamage) {
  GateWorld w(GetParam(), JournalKind::kTarget, /*corrupt=*/false);
  EXPECT_EQ(ReadOnlyRows(w.db(), "PRAGMA quick_check"), std::vector<std::string>{"ok"});
  ProcessResult r = w.Run({"once", w.db()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(Difference("database", w.bytes().db, ReadDbBytes(w.db()).db), "")
      << "`once` did not change a healthy database: the byte comparison proves nothing";
  EXPECT_EQ(JournalTablesIn(w.db()), 3);
}

INSTANTIATE_TEST_SUITE_P(Gate, GateControl, ::testing::Values(Flavour::kWal, Flavour::kRollback),
                         [](const ::testing::TestParamInfo<Flavour>& info) {
                           return FlavourName(info.param);
                         });

}  // namespace
}  // namespace maintd::test
