// What a maintainer remembers of one database between runs (lib/jobs/change_tracker.h),
// driven directly with the signatures of a real SQLite file: every job keeps its own state
// (settled, probe, last real run), an outside write unsettles them all, and the stored
// part of the signature (FileStamp) tells a change exactly as the full signature does.
#include "lib/jobs/change_tracker.h"

#include <gtest/gtest.h>

#include <mutex>

#include "tests/support/test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;

const Millis kDay = std::chrono::hours(24);

// A fresh tracker and a real idle WAL database beside it.
class ChangeTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override { test::MakeWalDb(path, 50); }
  FileSignature Read() const { return ReadFileSignature(path); }

  test::TempDir dir;
  const std::string path = dir.File("app.db");
  const SystemTime t0 = SystemTime{} + std::chrono::hours(1000);
  ChangeTracker tracker;
};

TEST_F(ChangeTrackerTest, EveryJobKeepsItsOwnStateAndProbe) {
  const FileSignature sig = Read();
  ASSERT_TRUE(sig.header_known) << sig.Describe();
  EXPECT_FALSE(tracker.Observe(sig)) << "the first look is never 'unchanged'";

  // Four jobs, told apart only by their names, in the order a daemon meets them.
  tracker.MarkSettled("checkpoint", "", t0);
  tracker.Record("health", /*settled=*/true, /*changed_data=*/false, "free_disk=ok filesystem=ext4",
                 sig, t0);
  tracker.Record("analyze", /*settled=*/false, /*changed_data=*/false, "", sig, t0 - 23h);
  tracker.Record("integrity_check", /*settled=*/true, /*changed_data=*/false, "", sig, t0 - 25h);
  ASSERT_TRUE(tracker.Observe(Read()));

  EXPECT_TRUE(tracker.Knows("checkpoint"));
  EXPECT_TRUE(tracker.Knows("health"));
  EXPECT_FALSE(tracker.Knows("vacuum"));
  EXPECT_FALSE(tracker.RanBefore("checkpoint")) << "settled by a pre-open skip, never run";
  EXPECT_TRUE(tracker.RanBefore("health"));
  EXPECT_TRUE(tracker.RanBefore("analyze"));
  EXPECT_FALSE(tracker.RanBefore("vacuum"));

  EXPECT_TRUE(tracker.MaySkip("checkpoint", "", t0, kDay));
  EXPECT_TRUE(tracker.MaySkip("health", "free_disk=ok filesystem=ext4", t0, kDay));
  EXPECT_FALSE(tracker.MaySkip("health", "free_disk=warning filesystem=ext4", t0, kDay))
      << "a probe that moved makes the job run";
  EXPECT_FALSE(tracker.MaySkip("health", "", t0, kDay));
  EXPECT_FALSE(tracker.MaySkip("analyze", "", t0, kDay)) << "not settled";
  EXPECT_FALSE(tracker.MaySkip("integrity_check", "", t0, kDay)) << "real run older than a day";
  EXPECT_TRUE(tracker.MaySkip("integrity_check", "", t0, 26h));
  EXPECT_FALSE(tracker.MaySkip("vacuum", "", t0, kDay)) << "never seen";

  EXPECT_TRUE(tracker.SettledUnchanged(Read(), {"checkpoint", "health"}));
  EXPECT_FALSE(tracker.SettledUnchanged(Read(), {"checkpoint", "analyze"}));
  EXPECT_FALSE(tracker.SettledUnchanged(Read(), {"health", "vacuum"}));
  EXPECT_TRUE(tracker.UnchangedSinceFirstLook(Read()));

  // A later run of one job changes that job only; its probe is replaced.
  tracker.Record("health", /*settled=*/true, /*changed_data=*/false, "free_disk=warning", sig, t0);
  EXPECT_TRUE(tracker.MaySkip("health", "free_disk=warning", t0, kDay));
  EXPECT_FALSE(tracker.MaySkip("health", "free_disk=ok filesystem=ext4", t0, kDay));
  EXPECT_TRUE(tracker.MaySkip("checkpoint", "", t0, kDay));

  // A run that changed the application's data unsettles the others, not itself.
  tracker.Record("retention", /*settled=*/true, /*changed_data=*/true, "", sig, t0);
  EXPECT_TRUE(tracker.MaySkip("retention", "", t0, kDay));
  EXPECT_FALSE(tracker.MaySkip("checkpoint", "", t0, kDay));
  EXPECT_FALSE(tracker.MaySkip("health", "free_disk=warning", t0, kDay));
  EXPECT_FALSE(tracker.UnchangedSinceFirstLook(Read()));

  tracker.UnsettleAll();
  EXPECT_FALSE(tracker.MaySkip("retention", "", t0, kDay));
  EXPECT_TRUE(tracker.Knows("retention")) << "unsettled, not forgotten";
}

TEST_F(ChangeTrackerTest, AnOutsideWriteUnsettlesEveryJobAndIsRemembered) {
  tracker.Observe(Read());
  tracker.MarkSettled("checkpoint", "", t0);
  tracker.MarkSettled("vacuum", "", t0);
  ASSERT_TRUE(tracker.Observe(Read()));
  ASSERT_TRUE(tracker.UnchangedSinceFirstLook(Read()));

  test::ExecSql(path, "INSERT INTO items(body) VALUES ('outside write')");
  const FileSignature after = Read();
  EXPECT_FALSE(tracker.SettledUnchanged(after, {"checkpoint"}));
  EXPECT_FALSE(tracker.Observe(after)) << after.Describe();
  EXPECT_FALSE(tracker.MaySkip("checkpoint", "", t0, kDay));
  EXPECT_FALSE(tracker.MaySkip("vacuum", "", t0, kDay));
  // The new signature is ours now; the write stays on record.
  EXPECT_TRUE(tracker.Observe(Read()));
  EXPECT_FALSE(tracker.UnchangedSinceFirstLook(Read()));
}

TEST_F(ChangeTrackerTest, AnIncompleteSignatureNeverCountsAsUnchanged) {
  FileSignature unknown = Read();
  unknown.header_known = false;  // what a read while a connection of ours is open gives
  tracker.Observe(unknown);
  tracker.MarkSettled("checkpoint", "", SystemTime{});
  EXPECT_FALSE(tracker.Observe(unknown));
  EXPECT_FALSE(tracker.MaySkip("checkpoint", "", SystemTime{}, kDay));
}

// Issue 14: one tracker per database, 10,000 databases. The bounds hold for 64-bit
// libstdc++ (a 40-byte std::mutex); elsewhere they are not checked.
TEST(ChangeTracker, PerDatabaseFootprintStaysSmall) {
  if (sizeof(void*) != 8 || sizeof(std::mutex) != 40) GTEST_SKIP() << "other ABI";
  EXPECT_LE(sizeof(FileStamp), 96u) << "what the tracker stores of a signature";
  EXPECT_LE(sizeof(ChangeTracker), 176u);
}

}  // namespace
}  // namespace maintd
