// Connection bookkeeping for shutdown; see connection_registry.hpp.
#include "runtime/connection_registry.hpp"

#include <vector>

namespace sig::runtime {

connection_registry::entry connection_registry::add(shutdown_fn on_shutdown) {
  std::unique_lock lock(mutex_);
  const std::uint64_t key = next_key_++;
  // Counted even when shutdown has begun: the connections taken on from the listen backlog after
  // it began must be waited for like the others, or the process stops before they are answered.
  connections_.emplace(key, on_shutdown);
  if (stopping_) {
    lock.unlock();
    on_shutdown();
  }
  return entry(*this, key);
}

void connection_registry::shutdown_all() {
  std::vector<shutdown_fn> callbacks;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (const auto& [key, fn] : connections_) callbacks.push_back(fn);
  }
  // Called outside the lock: a callback may end its connection, which deregisters it.
  for (const auto& fn : callbacks) fn();
}

std::size_t connection_registry::size() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

void connection_registry::remove(std::uint64_t key) {
  std::lock_guard lock(mutex_);
  connections_.erase(key);
}

}  // namespace sig::runtime
