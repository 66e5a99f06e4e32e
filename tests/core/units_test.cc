#include "lib/core/units.h"

#include <gtest/gtest.h>

namespace maintd {
namespace {

TEST(Units, ParsesDurations) {
  EXPECT_EQ(ParseDuration("500ms")->count(), 500);
  EXPECT_EQ(ParseDuration("30s")->count(), 30000);
  EXPECT_EQ(ParseDuration("5m")->count(), 300000);
  EXPECT_EQ(ParseDuration("24h")->count(), 86400000);
  EXPECT_EQ(ParseDuration("7d")->count(), 7 * 86400000LL);
  EXPECT_EQ(ParseDuration("0")->count(), 0);
  EXPECT_EQ(ParseDuration("1.5s")->count(), 1500);
}

TEST(Units, RejectsBadDurations) {
  for (const char* bad : {"", "-5s", "5", "5 weeks", "s", "5x", "1e9999d", "99999999d", "1..2s"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(Units, FormatsDurationsRoundTrip) {
  for (const char* text : {"500ms", "30s", "5m", "36h", "7d", "0"}) {
    EXPECT_EQ(FormatDuration(*ParseDuration(text)), text);
  }
}

TEST(Units, ParsesSizes) {
  EXPECT_EQ(*ParseSize("4096"), 4096);
  EXPECT_EQ(*ParseSize("64KiB"), 64 * 1024);
  EXPECT_EQ(*ParseSize("64MiB"), 64LL << 20);
  EXPECT_EQ(*ParseSize("1GiB"), 1LL << 30);
  EXPECT_EQ(*ParseSize("1MB"), 1000000);
  EXPECT_FALSE(ParseSize("-1").ok());
  EXPECT_FALSE(ParseSize("12 parsecs").ok());
  EXPECT_FALSE(ParseSize("99999999999TiB").ok());
  EXPECT_EQ(FormatSize(64LL << 20), "64MiB");
}

TEST(Units, ParsesTimesOfDay) {
  auto t = ParseTimeOfDay("03:00");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->hour, 3);
  EXPECT_FALSE(t->utc);
  auto z = ParseTimeOfDay("23:59Z");
  ASSERT_TRUE(z.ok());
  EXPECT_TRUE(z->utc);
  for (const char* bad : {"24:00", "3", "03:60", "03:0", "ab:cd", ""}) {
    EXPECT_FALSE(ParseTimeOfDay(bad).ok()) << bad;
  }
}

TEST(Units, NextTimeOfDayInUtc) {
  auto base = *ParseSqliteUtc("2026-11-22 02:59:00");
  TimeOfDay three{3, 0, true};
  EXPECT_EQ(FormatSqliteUtc(NextTimeOfDay(three, base)), "2026-11-22 03:00:00");
  auto after = *ParseSqliteUtc("2026-11-22 03:00:00");
  EXPECT_EQ(FormatSqliteUtc(NextTimeOfDay(three, after)), "2026-11-23 03:00:00");
  EXPECT_EQ(FormatSqliteUtc(PreviousTimeOfDay(three, after)), "2026-11-22 03:00:00");
  EXPECT_EQ(FormatSqliteUtc(PreviousTimeOfDay(three, base)), "2026-11-21 03:00:00");
}

TEST(Units, DiskThreshold) {
  EXPECT_EQ(ParseDiskThreshold("10%")->percent, 10);
  EXPECT_EQ(ParseDiskThreshold("1GiB")->bytes, 1LL << 30);
  EXPECT_FALSE(ParseDiskThreshold("150%").ok());
  EXPECT_FALSE(ParseDiskThreshold("lots").ok());
  // Printed without an exponent, so that what is printed parses again (found by the fuzzer).
  EXPECT_EQ(FormatDiskThreshold(*ParseDiskThreshold("12.5%")), "12.5%");
  EXPECT_EQ(FormatDiskThreshold(*ParseDiskThreshold("10%")), "10%");
  std::string tiny = FormatDiskThreshold(*ParseDiskThreshold("0.0000000000000000000000005%"));
  EXPECT_EQ(tiny, "0%");
  EXPECT_TRUE(ParseDiskThreshold(tiny).ok());
}

TEST(Units, ExitCodes) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), 0);
  EXPECT_EQ(ExitCodeFor(Status::Busy("x")), 75);
  EXPECT_EQ(ExitCodeFor(Status::LockHeld("x")), 75);
  EXPECT_EQ(ExitCodeFor(Status::Config("x")), 78);
  EXPECT_EQ(ExitCodeFor(Status::InvalidArgument("x")), 2);
  EXPECT_EQ(ExitCodeFor(Status::Corrupt("x")), 1);
}

}  // namespace
}  // namespace maintd
