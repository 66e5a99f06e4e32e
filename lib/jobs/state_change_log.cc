#include "lib/jobs/state_change_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>

namespace maintd {

std::vector<StateChangeLog::State>::iterator StateChangeLog::Find(const std::string& key) {
  return std::find_if(states_.begin(), states_.end(), [&](const State& s) { return s.key == key; });
}

StateChangeLog::Event StateChangeLog::Holds(const std::string& key, const std::string& variant,
                                            const Clock& clock) {
  std::lock_guard lock(mu_);
  const SteadyTime now = clock.SteadyNow();
  auto it = Find(key);
  if (it == states_.end()) {
    // One slot at a time: a doubling vector would keep unused slots in every database.
    states_.reserve(states_.size() + 1);
    states_.push_back(State{key, variant, clock.Now(), now});
    return Event::kAppeared;
  }
  State& s = *it;
  if (s.variant != variant) {
    s.variant = variant;
    s.since = clock.Now();
    s.last_logged = now;
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
  auto it = Find(key);
  if (it == states_.end()) return Event::kNone;
  states_.erase(it);
  if (states_.empty()) std::vector<State>().swap(states_);  // nothing held: nothing kept
  return Event::kCleared;
}

std::optional<SystemTime> StateChangeLog::Since(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = const_cast<StateChangeLog*>(this)->Find(key);
  if (it == states_.end()) return std::nullopt;
  return it->since;
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
