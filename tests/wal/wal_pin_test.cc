// Who pins the WAL (lib/wal/pin.h): real databases, real reader processes
// (maintd-test-reader), the real /proc/locks. No mocks of SQLite.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "lib/backup/snapshot_copy.h"
#include "lib/wal/pin.h"
#include "tests/support/job_util.h"
#include "tests/support/reader.h"
#include "tests/support/test_util.h"
#include "tests/wal/wal_test_util.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;
using test::Reader;

class WalPinTest : public test::WalDbTest {
 protected:
  WalPinProbe Probe(const PinProbeOptions& options = {}) {
    Connection conn = test::OpenTestDb(db_, 200ms);
    auto probe = ProbeWalPins(conn, options);
    EXPECT_TRUE(probe.ok()) << probe.status().ToString();
    return probe.ok() ? *probe : WalPinProbe{};
  }
};

TEST_F(WalPinTest, NamesTheReaderProcessItsCommandAndReadMark) {
  Reader reader(db_, dir_.path());
  ASSERT_TRUE(reader.WaitReading(10s));
  EXPECT_TRUE(Probe().readers.empty()) << "no commit since it began: it holds nothing back yet";
  Commit(3);
  WalPinProbe p = Probe();
  ASSERT_EQ(p.wal.state, WalIndexState::kRead);
  ASSERT_EQ(p.readers.size(), 1u);
  const WalReader& r = p.readers[0];
  EXPECT_EQ(r.pid, reader.pid());
  EXPECT_NE(r.command.find("maintd-test-reader"), std::string::npos) << r.command;
  EXPECT_NE(r.command.find(db_), std::string::npos) << r.command;
  EXPECT_LT(r.read_mark, p.wal.max_frame);
  EXPECT_TRUE(r.blocks_backfill);
  EXPECT_TRUE(ResetBlocked(p.wal));
  EXPECT_EQ(DescribeReader(r).rfind("pid " + std::to_string(reader.pid()) + " (", 0), 0u);

  ASSERT_TRUE(reader.Release(10s));
  Commit();
  EXPECT_TRUE(Probe().readers.empty());
}

TEST_F(WalPinTest, TwoReadersTheOldestFirst) {
  Commit();
  Reader first(db_, dir_.path());
  ASSERT_TRUE(first.WaitReading(10s));
  Commit(2);
  Reader second(db_, dir_.path());
  ASSERT_TRUE(second.WaitReading(10s));
  Commit(2);
  WalPinProbe p = Probe();
  ASSERT_EQ(p.readers.size(), 2u);
  EXPECT_EQ(p.readers[0].pid, first.pid());
  EXPECT_EQ(p.readers[1].pid, second.pid());
  EXPECT_LT(p.readers[0].read_mark, p.readers[1].read_mark);

  // The tracker saw the first alone at t0, both at t0+10s: the first is the oldest pin.
  WalPinTracker tracker;
  WalPinProbe only_first = p;
  only_first.readers.resize(1);
  auto t0 = std::chrono::steady_clock::now();
  tracker.Observe(only_first, t0, 5s, "app");
  PinObservation seen = tracker.Observe(p, t0 + 10s, 5s, "app");
  EXPECT_EQ(seen.oldest, 0u);
  EXPECT_EQ(seen.oldest_seconds, 10);
  EXPECT_EQ(seen.seconds[1], 0);
  EXPECT_NE(seen.started.find("pid " + std::to_string(first.pid())), std::string::npos)
      << seen.started;
}

TEST_F(WalPinTest, OneProcessTwoConnectionsBlamedOnce) {
  Reader reader(db_, dir_.path(), /*extra_connection=*/true);
  ASSERT_TRUE(reader.WaitReading(10s));
  Commit(2);
  WalPinProbe p = Probe();
  ASSERT_EQ(p.readers.size(), 1u);
  EXPECT_EQ(p.readers[0].pid, reader.pid());
}

TEST_F(WalPinTest, OurOwnBackupSnapshotIsNeverBlamed) {
  // The backup's pinned snapshot, held by this process (the daemon) as during a copy.
  OpenOptions ro;
  ro.read_only = true;
  auto source = Connection::Open(db_, ro);
  ASSERT_TRUE(source.ok());
  auto snap = PinSnapshot(*source, [&] { return source->Exec("BEGIN; SELECT count(*) FROM items"); },
                          /*allow_file_copy=*/true);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  ASSERT_TRUE(source->InTransaction());
  Commit(2);
  WalPinProbe p = Probe();
  EXPECT_TRUE(p.readers.empty());
  EXPECT_EQ(p.own_slots, 1);
  // The same lock seen as another process's is blamed: it is the pid that spares it.
  PinProbeOptions as_stranger;
  as_stranger.self = 1;
  WalPinProbe q = Probe(as_stranger);
  ASSERT_EQ(q.readers.size(), 1u);
  EXPECT_EQ(q.readers[0].pid, getpid());
  ASSERT_TRUE(source->Exec("COMMIT").ok());
}

TEST_F(WalPinTest, HolderNotInProcLocksIsPidNotVisible) {
  Reader reader(db_, dir_.path());
  ASSERT_TRUE(reader.WaitReading(10s));
  Commit(2);
  // /proc/locks as a viewer in another PID namespace sees it: without the reader's locks.
  std::ifstream in("/proc/locks");
  std::string line, kept;
  const std::string pid = " " + std::to_string(reader.pid()) + " ";
  while (std::getline(in, line)) {
    if (line.find(pid) == std::string::npos) kept += line + "\n";
  }
  test::WriteFile(dir_.File("locks"), kept);
  PinProbeOptions options;
  options.proc_locks = dir_.File("locks");
  WalPinProbe p = Probe(options);
  ASSERT_EQ(p.readers.size(), 1u);
  EXPECT_FALSE(p.readers[0].visible());
  EXPECT_EQ(DescribeReader(p.readers[0]).rfind("pid not visible", 0), 0u);
  EXPECT_NE(std::string(kPidNotVisibleHint).find("shareProcessNamespace: true"), std::string::npos);
}

TEST_F(WalPinTest, NoSharedMemoryIsSaid) {
  app_.reset();
  test::ExecSql(db_, "PRAGMA wal_checkpoint(TRUNCATE)");
  test::HeldConnection exclusive(db_);
  exclusive.Exec("PRAGMA locking_mode=EXCLUSIVE; SELECT count(*) FROM items");
  exclusive.Exec("INSERT INTO items(body) VALUES ('x')");
  Connection conn = test::OpenTestDb(db_, 50ms);
  auto p = ProbeWalPins(conn);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->wal.state, WalIndexState::kNoSharedMemory) << p->wal.reason;
  EXPECT_NE(p->wal.reason.find("locking_mode=EXCLUSIVE"), std::string::npos);
  EXPECT_TRUE(p->readers.empty());
}

TEST(ParseProcLocksTest, MatchesTheShmInodeAndReadSlotBytes) {
  const std::string text =
      "1: POSIX  ADVISORY  READ 4242 fe:00:777 123 123\n"
      "2: POSIX  ADVISORY  READ 4243 fe:00:777 125 125\n"
      "2: -> POSIX  ADVISORY  WRITE 99 fe:00:777 125 125\n"
      "3: POSIX  ADVISORY  READ 4244 fe:00:777 128 128\n"
      "4: POSIX  ADVISORY  WRITE 4245 fe:00:777 124 124\n"
      "5: POSIX  ADVISORY  READ 4246 fe:00:778 124 124\n"
      "6: FLOCK  ADVISORY  WRITE 4247 fe:00:777 0 EOF\n"
      "7: POSIX  ADVISORY  READ 0 fe:00:777 127 127\n";
  ShmReadLocks l = ParseProcLocks(text, 0xfe, 0, 777);
  EXPECT_EQ(l.readers[0], std::vector<pid_t>{4242});
  EXPECT_TRUE(l.readers[1].empty()) << "a WRITE lock is not a reader";
  EXPECT_EQ(l.readers[2], std::vector<pid_t>{4243});
  EXPECT_TRUE(l.readers[3].empty());
  EXPECT_EQ(l.readers[4], std::vector<pid_t>{0});
  // Another st_dev (overlayfs, btrfs): the inode alone matches.
  EXPECT_EQ(ParseProcLocks(text, 0, 42, 777).readers[0], std::vector<pid_t>{4242});
}

TEST(BlameRuleTest, WhichSlotPinsWhat) {
  WalIndexSnapshot s;
  s.state = WalIndexState::kRead;
  s.max_frame = 100;
  s.ckpt.backfilled = 40;
  s.ckpt.read_marks = {0, 100, 40, kReadMarkNotUsed, 99};
  EXPECT_TRUE(BlamedSlot(s, 0)) << "slot 0 blocks all backfill while frames wait";
  EXPECT_FALSE(BlamedSlot(s, 1)) << "a snapshot of the newest frame holds nothing back";
  EXPECT_TRUE(BlamedSlot(s, 2));
  EXPECT_FALSE(BlamedSlot(s, 3));
  EXPECT_TRUE(BlamedSlot(s, 4));
  s.ckpt.backfilled = 100;
  EXPECT_FALSE(BlamedSlot(s, 0)) << "everything backfilled: a slot-0 reader costs nothing";
  EXPECT_FALSE(ResetBlocked(s));
  s.held[1] = true;
  EXPECT_TRUE(ResetBlocked(s)) << "slots 1-4 block the log's reset";
}

}  // namespace
}  // namespace maintd
