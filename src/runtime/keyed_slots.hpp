// At most `limit` holders at once per key: connections per client address, WebSockets per user,
// connections still in their handshake. Thread-safe; a slot is given back when the object that
// holds it is destroyed, however its connection ends.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace sig::runtime {

class keyed_slots {
 public:
  /// `limit` 0: no limit (slots are still counted).
  explicit keyed_slots(std::size_t limit) : limit_(limit) {}
  keyed_slots(const keyed_slots&) = delete;
  keyed_slots& operator=(const keyed_slots&) = delete;

  class slot {
   public:
    slot(keyed_slots& owner, std::string key) : owner_(&owner), key_(std::move(key)) {}
    slot(slot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)), key_(std::move(other.key_)) {}
    slot& operator=(slot&& other) noexcept {
      if (this != &other) {
        release();
        owner_ = std::exchange(other.owner_, nullptr);
        key_ = std::move(other.key_);
      }
      return *this;
    }
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    ~slot() { release(); }

    /// Gives the slot back now (idempotent).
    void release() noexcept {
      if (owner_) std::exchange(owner_, nullptr)->give_back(key_);
    }

   private:
    keyed_slots* owner_;
    std::string key_;
  };

  /// A slot for `key`, or nullopt when `key` holds `limit` already.
  std::optional<slot> try_take(std::string_view key) {
    {
      const std::lock_guard lock(mutex_);
      std::size_t& held = held_[std::string(key)];
      if (limit_ != 0 && held >= limit_) return std::nullopt;
      ++held;
    }
    return slot(*this, std::string(key));
  }

  std::size_t held(std::string_view key) const {
    const std::lock_guard lock(mutex_);
    const auto found = held_.find(std::string(key));
    return found == held_.end() ? 0 : found->second;
  }

  std::size_t limit() const noexcept { return limit_; }

 private:
  void give_back(const std::string& key) noexcept {
    const std::lock_guard lock(mutex_);
    const auto found = held_.find(key);
    if (found != held_.end() && --found->second == 0) held_.erase(found);
  }

  const std::size_t limit_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> held_;  // guarded by mutex_; keys with a slot held
};

}  // namespace sig::runtime
