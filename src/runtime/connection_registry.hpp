// The live connections of the server, for graceful shutdown: each registers how to wind itself
// down, and shutdown_all() asks every one of them. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace sig::runtime {

class connection_registry {
 public:
  /// Called from any thread; must only post work to the connection's own executor.
  using shutdown_fn = std::function<void()>;

  /// Deregisters the connection when destroyed.
  class entry {
   public:
    entry(connection_registry& registry, std::uint64_t key) noexcept : registry_(&registry), key_(key) {}
    entry(entry&& other) noexcept : registry_(std::exchange(other.registry_, nullptr)), key_(other.key_) {}
    entry(const entry&) = delete;
    entry& operator=(const entry&) = delete;
    entry& operator=(entry&&) = delete;
    ~entry() {
      if (registry_) registry_->remove(key_);
    }

   private:
    connection_registry* registry_;
    std::uint64_t key_;
  };

  /// If shutdown has begun already, `on_shutdown` is called at once.
  entry add(shutdown_fn on_shutdown);
  void shutdown_all();
  std::size_t size() const;

 private:
  void remove(std::uint64_t key);

  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, shutdown_fn> connections_;
  std::uint64_t next_key_ = 0;
  bool stopping_ = false;
};

}  // namespace sig::runtime
