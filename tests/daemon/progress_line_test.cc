// The command line's progress line (daemon/progress_line.h): what one drawn line says, and
// that nothing is drawn where it must not be.
#include "daemon/progress_line.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace maintd {
namespace {

using std::chrono::milliseconds;

TEST(ProgressLine, SaysDoneOfTotalPercentRateAndEta) {
  EXPECT_EQ(FormatProgressLine("vacuum", "incremental", 4200, 10000, "pages", milliseconds(2000)),
            "vacuum incremental: 4200/10000 pages (42%) 2100 pages/s ETA 3s");
  EXPECT_EQ(FormatProgressLine("backup", "copy", 96 << 20, 256 << 20, "bytes", milliseconds(1000)),
            "backup copy: 96.0 MiB/256.0 MiB (37%) 96.0 MiB/s ETA 2s");
  // Too early for a rate: the elapsed time instead.
  EXPECT_EQ(FormatProgressLine("vacuum", "incremental", 10, 100, "pages", milliseconds(100)),
            "vacuum incremental: 10/100 pages (10%) 0s");
  // No measure (a full VACUUM, an integrity_check): the phase and how long it has taken.
  EXPECT_EQ(FormatProgressLine("check", "integrity_check", 0, 0, "", milliseconds(75000)),
            "check integrity_check: 1m15s");
  // A count without a total (retention's rows): the count and the rate, no percentage.
  EXPECT_EQ(FormatProgressLine("queue retention", "delete", 5000, 0, "rows", milliseconds(2000)),
            "queue retention delete: 5000 rows 2500 rows/s");
}

TEST(ProgressLine, DrawsNothingOnAFileByDefaultAndOnlyWhenForced) {
  test::TempDir dir;
  for (ProgressMode mode : {ProgressMode::kAuto, ProgressMode::kOff, ProgressMode::kOn}) {
    std::string path = dir.File("err" + std::to_string(static_cast<int>(mode)));
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    {
      ProgressLine line(mode, fd);
      line.SetLabel("vacuum");
      line.Report("incremental", 1, 10, "pages");
      EXPECT_EQ(line.enabled(), mode == ProgressMode::kOn);  // a file is not a terminal
      // The drawing thread draws within kRedrawInterval when enabled.
      if (line.enabled()) {
        EXPECT_TRUE(test::WaitFor([&] { return !test::ReadFile(path).empty(); },
                                  milliseconds(5000)));
      }
      line.Clear();
    }
    ::close(fd);
    std::string drawn = test::ReadFile(path);
    if (mode == ProgressMode::kOn) {
      EXPECT_NE(drawn.find("\rvacuum incremental: 1/10 pages (10%)"), std::string::npos) << drawn;
      EXPECT_EQ(drawn.substr(drawn.size() - 4), "\r\033[K");  // erased at the end
    } else {
      EXPECT_EQ(drawn, "");
    }
  }
}

}  // namespace
}  // namespace maintd
