// A token bucket: `rate` tokens per second refill a bucket of `burst` tokens; each event takes
// one. Not thread-safe (one per connection, used on its strand).
#pragma once

#include <algorithm>
#include <chrono>

namespace sig {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  token_bucket(double rate_per_second, double burst, clock::time_point now = clock::now()) noexcept
      : rate_(rate_per_second), burst_(burst), tokens_(burst), last_(now) {}

  /// Takes a token if one is available at `now`.
  bool try_take(clock::time_point now = clock::now()) noexcept {
    const std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed.count()) * rate_);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

}  // namespace sig
