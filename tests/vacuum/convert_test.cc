// The conversion rule of convert_auto_vacuum (lib/vacuum/convert.h) as a pure function:
// the order of its rules, the stall bound and the convert_at window.
#include "lib/vacuum/convert.h"

#include <gtest/gtest.h>

namespace maintd {
namespace {

using namespace std::chrono_literals;

// 25,000 pages of 4 KiB, `free` of them on the freelist, auto_vacuum NONE.
DbStats Stats(int64_t free) {
  DbStats s;
  s.page_size = 4096;
  s.page_count = 25000;
  s.freelist_count = free;
  s.auto_vacuum = 0;
  return s;
}

FullVacuumPrediction Predicted(Millis d) {
  FullVacuumPrediction p;
  p.duration = d;
  return p;
}

// 2025-01-15 at hh:mm UTC.
SystemTime Utc(int hh, int mm) {
  return SystemTime{} + std::chrono::hours(24 * 20103) + std::chrono::hours(hh) +
         std::chrono::minutes(mm);
}

TEST(ConvertRule, AutoConvertsWhenThePredictedStallIsWithinTheBoundAndTheTriggerFires) {
  VacuumPolicy p;  // auto, 500ms, trigger 20% and 1000 pages
  const DbStats mostly_free = Stats(24000);
  auto d = DecideConversion(p, mostly_free, Predicted(300ms), Status::Ok(), Utc(12, 0));
  EXPECT_EQ(d.verdict, ConvertVerdict::kConvert) << d.reason;
  EXPECT_EQ(d.live_bytes, 1000 * 4096);
  EXPECT_EQ(d.Details()["predicted_stall_ms"], 300);
  EXPECT_EQ(d.Details()["max_full_vacuum_stall_ms"], 500);

  auto too_slow = DecideConversion(p, mostly_free, Predicted(501ms), Status::Ok(), Utc(12, 0));
  EXPECT_EQ(too_slow.verdict, ConvertVerdict::kTooSlow);
  EXPECT_NE(too_slow.reason.find("max_full_vacuum_stall 500ms"), std::string::npos)
      << too_slow.reason;
  EXPECT_NE(too_slow.reason.find("501 ms"), std::string::npos) << too_slow.reason;
  EXPECT_FALSE(too_slow.will_convert());

  // Nothing worth reclaiming: left as it is, whatever the prediction.
  auto below = DecideConversion(p, Stats(500), Predicted(1ms), Status::Ok(), Utc(12, 0));
  EXPECT_EQ(below.verdict, ConvertVerdict::kBelowTrigger);
  // The command asks without the trigger.
  auto asked = DecideConversion(p, Stats(500), Predicted(1ms), Status::Ok(), Utc(12, 0),
                                {.require_trigger = false, .honour_window = false});
  EXPECT_EQ(asked.verdict, ConvertVerdict::kConvert);
}

TEST(ConvertRule, TrueIgnoresThePredictionAndFalseNeverConverts) {
  VacuumPolicy p;
  p.convert_auto_vacuum = ConvertAutoVacuum::kTrue;
  EXPECT_EQ(DecideConversion(p, Stats(10), Predicted(1h), Status::Ok(), Utc(12, 0)).verdict,
            ConvertVerdict::kConvert);
  p.convert_auto_vacuum = ConvertAutoVacuum::kFalse;
  EXPECT_EQ(DecideConversion(p, Stats(24000), Predicted(1ms), Status::Ok(), Utc(12, 0)).verdict,
            ConvertVerdict::kDisabled);
}

TEST(ConvertRule, TheFullVacuumRulesComeBeforeTheStallBound) {
  VacuumPolicy p;
  auto d = DecideConversion(p, Stats(24000), Predicted(1h),
                            Status::Refused("full VACUUM refused: Litestream"), Utc(12, 0));
  EXPECT_EQ(d.verdict, ConvertVerdict::kRefused);
  EXPECT_EQ(d.reason, "full VACUUM refused: Litestream");
  p.convert_auto_vacuum = ConvertAutoVacuum::kTrue;
  EXPECT_EQ(DecideConversion(p, Stats(24000), Predicted(1ms), Status::Refused("disk"), Utc(12, 0))
                .verdict,
            ConvertVerdict::kRefused);
}

TEST(ConvertRule, ConvertAtOpensAWindowOfAnHourOrOneCheckInterval) {
  VacuumPolicy p;
  p.convert_at = TimeOfDay{3, 0, /*utc=*/true};
  EXPECT_FALSE(InConvertWindow(p, Utc(2, 59)));
  EXPECT_TRUE(InConvertWindow(p, Utc(3, 0)));
  EXPECT_TRUE(InConvertWindow(p, Utc(3, 59)));
  EXPECT_FALSE(InConvertWindow(p, Utc(4, 0)));
  EXPECT_FALSE(InConvertWindow(p, Utc(15, 0)));
  p.check_every = 2h;  // at least one check falls in the window
  EXPECT_TRUE(InConvertWindow(p, Utc(4, 59)));
  EXPECT_FALSE(InConvertWindow(p, Utc(5, 0)));
  p.convert_at.reset();
  EXPECT_TRUE(InConvertWindow(p, Utc(15, 0)));

  p.convert_at = TimeOfDay{3, 0, true};
  auto waits = DecideConversion(p, Stats(24000), Predicted(100ms), Status::Ok(), Utc(15, 0));
  EXPECT_EQ(waits.verdict, ConvertVerdict::kWaitForWindow);
  EXPECT_TRUE(waits.will_convert());
  EXPECT_NE(waits.reason.find("convert_at 03:00Z"), std::string::npos) << waits.reason;
  EXPECT_EQ(DecideConversion(p, Stats(24000), Predicted(100ms), Status::Ok(), Utc(3, 15)).verdict,
            ConvertVerdict::kConvert);
  // The stall bound is judged first: a database too big to convert does not "wait".
  EXPECT_EQ(DecideConversion(p, Stats(24000), Predicted(2s), Status::Ok(), Utc(15, 0)).verdict,
            ConvertVerdict::kTooSlow);
  // The command converts at any time.
  EXPECT_EQ(DecideConversion(p, Stats(24000), Predicted(100ms), Status::Ok(), Utc(15, 0),
                             {.require_trigger = false, .honour_window = false})
                .verdict,
            ConvertVerdict::kConvert);
}

}  // namespace
}  // namespace maintd
