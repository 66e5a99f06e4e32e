// health.wal_pin_warning / wal_pin_critical: defaults, per-database overrides, the printed
// config parsing again byte for byte, and critical below warning refused.
#include <gtest/gtest.h>

#include "daemon/config_yaml.h"

namespace maintd {
namespace {

using namespace std::chrono_literals;

TEST(WalPinConfig, DefaultsOverridesAndRoundTrip) {
  auto c = ParseConfigText("defaults: { health: { wal_pin_warning: 2s } }\n"
                           "databases:\n  - path: /data/a.db\n"
                           "    health: { wal_pin_critical: 90m }\n",
                           "test.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(DefaultConfig().defaults.health.wal_pin_warning, Millis(5min));
  EXPECT_EQ(DefaultConfig().defaults.health.wal_pin_critical, Millis(1h));
  EXPECT_EQ(c->defaults.health.wal_pin_warning, Millis(2s));
  const std::string printed = NormalizedYaml(*c);
  EXPECT_NE(printed.find("wal_pin_warning: 2s"), std::string::npos) << printed;
  EXPECT_NE(printed.find("wal_pin_critical: 90m"), std::string::npos) << printed;
  auto again = ParseConfigText(printed, "printed.yaml");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(NormalizedYaml(*again), printed);
}

TEST(WalPinConfig, CriticalBelowWarningIsRefused) {
  auto c = ParseConfigText("defaults: { health: { wal_pin_warning: 10m, wal_pin_critical: 5m } }\n",
                           "/etc/test.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("health.wal_pin_critical"), std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("below wal_pin_warning"), std::string::npos);
}

}  // namespace
}  // namespace maintd
