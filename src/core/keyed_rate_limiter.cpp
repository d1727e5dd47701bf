// Token buckets by key; see keyed_rate_limiter.hpp.
#include "core/keyed_rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace sig {

keyed_rate_limiter::keyed_rate_limiter(double rate_per_second, double burst, std::size_t max_keys)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), max_keys_(std::max<std::size_t>(1, max_keys)) {}

void keyed_rate_limiter::refill(bucket& b, clock::time_point now) const noexcept {
  const std::chrono::duration<double> elapsed = now - b.updated;
  if (elapsed.count() > 0) {
    b.tokens = std::min(burst_, b.tokens + elapsed.count() * rate_);
    b.updated = now;
  }
}

void keyed_rate_limiter::forget_idle(clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
  }
  // Every bucket is in use (many keys at once): forget arbitrary ones rather than grow. A key
  // forgotten this way starts again with a full bucket, which the other limits still bound.
  while (buckets_.size() >= max_keys_) buckets_.erase(buckets_.begin());
}

keyed_rate_limiter::clock::duration keyed_rate_limiter::take(std::string_view key, clock::time_point now) {
  if (!enabled()) return clock::duration::zero();
  const std::lock_guard lock(mutex_);
  auto found = buckets_.find(std::string(key));
  if (found == buckets_.end()) {
    if (buckets_.size() >= max_keys_) forget_idle(now);
    found = buckets_.emplace(std::string(key), bucket{burst_, now}).first;
  }
  bucket& b = found->second;
  refill(b, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return clock::duration::zero();
  }
  const std::chrono::duration<double> wait((1.0 - b.tokens) / rate_);
  return std::max<clock::duration>(std::chrono::duration_cast<clock::duration>(wait), clock::duration(1));
}

void keyed_rate_limiter::give_back(std::string_view key, clock::time_point now) {
  if (!enabled()) return;
  const std::lock_guard lock(mutex_);
  const auto found = buckets_.find(std::string(key));
  if (found == buckets_.end()) return;
  refill(found->second, now);
  found->second.tokens = std::min(burst_, found->second.tokens + 1.0);
}

std::size_t keyed_rate_limiter::size() const {
  const std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace sig
