#include "lib/sqlite/stop_token.h"

namespace maintd {

void StopToken::RequestStop() {
  stop_.store(true, std::memory_order_release);
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

void StopToken::Abort() {
  abort_.store(true, std::memory_order_release);
  stop_.store(true, std::memory_order_release);
  std::lock_guard lock(mu_);
  cv_.notify_all();
  for (Connection* c : connections_) c->Interrupt();
}

void StopToken::Register(Connection* c) {
  std::lock_guard lock(mu_);
  connections_.insert(c);
  if (aborted()) c->Interrupt();
}

void StopToken::Unregister(Connection* c) {
  std::lock_guard lock(mu_);
  connections_.erase(c);
}

bool StopToken::WaitUntil(SteadyTime until) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, until, [this] { return stop_requested(); });
}

}  // namespace maintd
