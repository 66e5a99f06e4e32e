#pragma once
// sd_notify(3) for Type=notify units: READY=1, STATUS=, WATCHDOG=1, STOPPING=1, RELOADING=1.
// Without $NOTIFY_SOCKET every call is a no-op, so the daemon runs the same outside systemd.

#include <chrono>
#include <optional>
#include <string>

namespace maintd {

void NotifyReady(const std::string& status);
void NotifyStatus(const std::string& status);
void NotifyStopping();
void NotifyReloading();
void NotifyWatchdog();
// Half of $WATCHDOG_USEC (systemd's advice for the ping period) when the watchdog is
// enabled for this process; nullopt otherwise.
std::optional<std::chrono::microseconds> WatchdogPingInterval();

}  // namespace maintd
