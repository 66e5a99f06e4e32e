// A database already known corrupt: an earlier `once DB` met it and found it corrupt, then
// every command runs on that same file, with the target journal (where nothing may be
// written, so nothing can be remembered in the database) and with a central journal (which
// holds the critical quick_check row, while the database gets no journal tables). The same
// promises as for a database never met: exit 1, "corrupt", the bytes and the -wal unchanged.
#include <gtest/gtest.h>

#include "tests/gate/gate_expect.h"

namespace maintd::test {
namespace {

class KnownCorrupt : public ::testing::TestWithParam<WorldParam> {
 protected:
  KnownCorrupt() : w_(std::get<0>(GetParam()), std::get<1>(GetParam())) {}

  bool central() const { return std::get<1>(GetParam()) == JournalKind::kCentral; }

  // The earlier run that found it corrupt.
  void SetUp() override {
    SCOPED_TRACE("the earlier run");
    ExpectRefused(w_, {"once", w_.db()});
    if (central()) ExpectCentralJournalHasIt();
  }

  void TearDown() override {
    ExpectSameBytes(w_.bytes(), w_.db(), "the whole test");
    EXPECT_EQ(JournalTablesIn(w_.db()), 0) << "journal tables were created in the database";
    if (central()) ExpectCentralJournalHasIt();
  }

  void ExpectCentralJournalHasIt() {
    EXPECT_GT(w_.CentralCriticalQuickChecks(), 0)
        << "no critical quick_check row for " << w_.db() << " in the central journal";
  }

  GateWorld w_;
};

TEST_P(KnownCorrupt, EveryWritingCommandExitsOneAndKeepsTheBytes) {
  for (const WritingCommand& c : WritingCommands()) {
    SCOPED_TRACE(c.name);
    ExpectRefused(w_, ArgsFor(c, w_));
  }
}

TEST_P(KnownCorrupt, RunKeepsTheBytes) { ExpectDaemonLeavesItAlone(w_); }

TEST_P(KnownCorrupt, CheckAndStatusReportIt) {
  ExpectCheckListing(w_, {"check", w_.db()});
  ExpectCheckListing(w_, {"check", "--full", w_.db()});
  ExpectStatusCritical(w_);
}

INSTANTIATE_TEST_SUITE_P(Gate, KnownCorrupt, AllWorlds(), WorldName);

}  // namespace
}  // namespace maintd::test
