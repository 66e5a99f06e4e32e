#include "daemon/systemd_notify.h"

#include <systemd/sd-daemon.h>

namespace maintd {

void NotifyReady(const std::string& status) {
  sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}
void NotifyStatus(const std::string& status) { sd_notify(0, ("STATUS=" + status).c_str()); }
void NotifyStopping() { sd_notify(0, "STOPPING=1\nSTATUS=shutting down"); }
void NotifyReloading() { sd_notify(0, "RELOADING=1\nSTATUS=reloading configuration"); }
void NotifyWatchdog() { sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::microseconds> WatchdogPingInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

}  // namespace maintd
