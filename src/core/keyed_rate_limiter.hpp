// Token buckets by key (a client address, an account), shared by all threads: each key may take
// `burst` events at once and `rate` more per second. The table of keys is bounded, so that a
// client inventing keys (a new email per attempt) cannot grow it without limit: full (idle)
// buckets are forgotten first, since they hold no state.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sig {

class keyed_rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  /// `rate_per_second` <= 0 disables the limiter: every take succeeds.
  keyed_rate_limiter(double rate_per_second, double burst, std::size_t max_keys = 100'000);

  /// Takes one event for `key` at `now`; when none is left, the time until one is.
  /// Returns zero when the event was taken.
  clock::duration take(std::string_view key, clock::time_point now = clock::now());

  /// Gives back an event taken earlier (an attempt that turned out not to count).
  void give_back(std::string_view key, clock::time_point now = clock::now());

  bool enabled() const noexcept { return rate_ > 0; }
  std::size_t size() const;

 private:
  struct bucket {
    double tokens;
    clock::time_point updated;
  };
  void refill(bucket& b, clock::time_point now) const noexcept;
  void forget_idle(clock::time_point now);

  double rate_;
  double burst_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, bucket> buckets_;  // guarded by mutex_
};

}  // namespace sig
