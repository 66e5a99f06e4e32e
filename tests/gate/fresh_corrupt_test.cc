// A corrupt database the daemon never met (no journal tables, no lock file), WAL with
// committed frames in its -wal or rollback-journal mode, in the default configuration
// (`journal: target`) and with a central journal. Every command that may write exits 1,
// says "corrupt" and leaves the database and its -wal byte-identical, each on its own fresh
// copy; `run` finds it corrupt and shuts down without writing; `check` lists at most 20
// problems, once; `status` reports the result (issue 11).
#include <gtest/gtest.h>

#include <tuple>

#include "tests/gate/gate_expect.h"

namespace maintd::test {
namespace {

using CommandParam = std::tuple<Flavour, JournalKind, WritingCommand>;

class FreshCorruptCommand : public ::testing::TestWithParam<CommandParam> {};

TEST_P(FreshCorruptCommand, ExitsOneSaysCorruptAndKeepsTheBytes) {
  const auto& [flavour, journal, command] = GetParam();
  GateWorld w(flavour, journal);
  ExpectRefused(w, ArgsFor(command, w));
  EXPECT_EQ(JournalTablesIn(w.db()), 0) << "journal tables were created in the database";
}

INSTANTIATE_TEST_SUITE_P(Gate, FreshCorruptCommand,
                         ::testing::Combine(::testing::Values(Flavour::kWal, Flavour::kRollback),
                                            ::testing::Values(JournalKind::kTarget,
                                                              JournalKind::kCentral),
                                            ::testing::ValuesIn(WritingCommands())),
                         [](const ::testing::TestParamInfo<CommandParam>& info) {
                           return FlavourName(std::get<0>(info.param)) + "_" +
                                  JournalName(std::get<1>(info.param)) + "_" +
                                  std::get<2>(info.param).name;
                         });

class FreshCorrupt : public ::testing::TestWithParam<WorldParam> {};

TEST_P(FreshCorrupt, RunFindsItCorruptAndShutsDownWithoutWriting) {
  GateWorld w(std::get<0>(GetParam()), std::get<1>(GetParam()));
  ExpectDaemonLeavesItAlone(w);
  EXPECT_EQ(JournalTablesIn(w.db()), 0) << "journal tables were created in the database";
}

TEST_P(FreshCorrupt, CheckListsAtMostTwentyProblemsOnce) {
  GateWorld w(std::get<0>(GetParam()), std::get<1>(GetParam()));
  ExpectCheckListing(w, {"check", w.db()});
}

TEST_P(FreshCorrupt, CheckFullListsAtMostTwentyProblemsOnce) {
  GateWorld w(std::get<0>(GetParam()), std::get<1>(GetParam()));
  ExpectCheckListing(w, {"check", "--full", w.db()});
}

TEST_P(FreshCorrupt, StatusReportsIntegrityCriticalAfterAWritingCommand) {
  GateWorld w(std::get<0>(GetParam()), std::get<1>(GetParam()));
  ExpectRefused(w, {"once", w.db()});
  ExpectStatusCritical(w);
}

INSTANTIATE_TEST_SUITE_P(Gate, FreshCorrupt, AllWorlds(), WorldName);

}  // namespace
}  // namespace maintd::test
