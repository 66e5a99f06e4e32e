#include "lib/jobs/state_change_log.h"

#include <spdlog/spdlog.h>

#include <ctime>

namespace maintd {

StateChangeLog::Event StateChangeLog::Holds(const std::string& key, const std::string& variant,
                                            const Clock& clock) {
  std::lock_guard lock(mu_);
  const SteadyTime now = clock.SteadyNow();
  auto it = states_.find(key);
  if (it == states_.end()) {
    states_.emplace(key, State{variant, clock.Now(), now});
    return Event::kAppeared;
  }
  State& s = it->second;
  if (s.variant != variant) {
    s = State{variant, clock.Now(), now};
    return Event::kChanged;
  }
  if (now - s.last_logged >= reminder_) {
    s.last_logged = now;
    return Event::kReminder;
  }
  return Event::kNone;
}

StateChangeLog::Event StateChangeLog::Clears(const std::string& key) {
  std::lock_guard lock(mu_);
  return states_.erase(key) > 0 ? Event::kCleared : Event::kNone;
}

std::optional<SystemTime> StateChangeLog::Since(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = states_.find(key);
  if (it == states_.end()) return std::nullopt;
  return it->second.since;
}

StateChangeLog::Event StateChangeLog::Log(const std::string& key, const std::string& variant,
                                          spdlog::level::level_enum level,
                                          const std::string& message, const Clock& clock) {
  Event e = Holds(key, variant, clock);
  if (e == Event::kNone) return e;
  if (e == Event::kReminder) {
    std::optional<SystemTime> since = Since(key);
    spdlog::log(level, "{} (unchanged since {})", message, since ? FormatUtc(*since) : "?");
  } else {
    spdlog::log(level, "{}", message);
  }
  return e;
}

StateChangeLog::Event StateChangeLog::LogCleared(const std::string& key,
                                                 const std::string& message) {
  Event e = Clears(key);
  if (e == Event::kCleared) spdlog::info("{}", message);
  return e;
}

std::string StateChangeLog::FormatUtc(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace maintd
