// Process metrics for GET /metrics (Prometheus text format 0.0.4): HTTP requests by route and
// status with latency histograms, WebSocket connections, messages in and out by type, and
// slow-consumer drops. Recording is lock-free (relaxed atomics, one counter per route and status
// code): no lock that every I/O thread takes per request. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sig::telemetry {

/// Counters of one metric, one per value of one label, fixed at construction.
class labelled_counter {
 public:
  labelled_counter(std::string name, std::string help, std::string label, std::vector<std::string> values);
  void increment(std::size_t value_index, std::uint64_t by = 1) noexcept;
  std::uint64_t value(std::size_t value_index) const noexcept;
  void render(std::string& out) const;

 private:
  std::string name_, help_, label_;
  std::vector<std::string> values_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
};

struct route_label {
  std::string method;
  std::string path;
};

class metrics {
 public:
  /// `routes`: the labels of the route table, by index. `ws_received` and `ws_sent`: the message
  /// types counted for WebSocket traffic, by index.
  metrics(std::vector<route_label> routes, std::vector<std::string> ws_received, std::vector<std::string> ws_sent);

  /// `route_index`: index into the route table, or unmatched_route.
  static constexpr std::size_t unmatched_route = static_cast<std::size_t>(-1);
  void http_request(std::size_t route_index, unsigned status, std::chrono::steady_clock::duration elapsed);

  void connection_opened() noexcept { connections_open_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() noexcept { connections_open_.fetch_sub(1, std::memory_order_relaxed); }
  void ws_opened() noexcept { ws_open_.fetch_add(1, std::memory_order_relaxed); }
  void ws_closed() noexcept { ws_open_.fetch_sub(1, std::memory_order_relaxed); }
  void ws_received(std::size_t type) noexcept { received_.increment(type); }
  void ws_sent(std::size_t type) noexcept { sent_.increment(type); }
  void ws_slow_consumer_dropped() noexcept { slow_consumers_.fetch_add(1, std::memory_order_relaxed); }
  void ws_rate_limited() noexcept { rate_limited_.fetch_add(1, std::memory_order_relaxed); }

  // A cluster process (PostgreSQL): its exchanges with the others. Rendered once watch_cluster()
  // was called.
  /// `ready`: whether the process is in step with the cluster (sampled at each rendering). Call
  /// once, before serving.
  void watch_cluster(std::function<bool()> ready) { cluster_ready_ = std::move(ready); }
  void cluster_events_received(std::uint64_t count) noexcept {
    cluster_received_.fetch_add(count, std::memory_order_relaxed);
  }
  void cluster_batch_published(std::uint64_t notifications) noexcept {
    cluster_batches_.fetch_add(1, std::memory_order_relaxed);
    cluster_notifications_.fetch_add(notifications, std::memory_order_relaxed);
  }
  void cluster_publish_failed() noexcept { cluster_failures_.fetch_add(1, std::memory_order_relaxed); }
  void cluster_reconciled() noexcept { cluster_reconciliations_.fetch_add(1, std::memory_order_relaxed); }
  void cluster_peers_reaped(std::uint64_t count) noexcept {
    cluster_reaped_.fetch_add(count, std::memory_order_relaxed);
  }

  /// The exposition text; `registered_peers` is sampled by the caller.
  std::string render(std::size_t registered_peers) const;

 private:
  static constexpr std::array<double, 13> latency_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                          0.1,    0.25,  0.5,    1.0,   2.5,  5.0};
  struct latency_histogram {
    std::array<std::atomic<std::uint64_t>, latency_buckets.size() + 1> buckets{};  // last: +Inf
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_ns{0};
  };

  // HTTP status codes are 100 to 599 (RFC 9110 §15); one counter for each, per route.
  static constexpr unsigned first_status = 100;
  static constexpr unsigned last_status = 599;
  using status_counts = std::array<std::atomic<std::uint64_t>, last_status - first_status + 1>;

  std::vector<route_label> routes_;  // plus one "unmatched" entry at the end
  std::unique_ptr<latency_histogram[]> latency_;
  std::unique_ptr<status_counts[]> statuses_;  // by route
  std::atomic<std::int64_t> connections_open_{0};
  std::atomic<std::int64_t> ws_open_{0};
  labelled_counter received_;
  labelled_counter sent_;
  std::atomic<std::uint64_t> slow_consumers_{0};
  std::atomic<std::uint64_t> rate_limited_{0};
  std::function<bool()> cluster_ready_;
  std::atomic<std::uint64_t> cluster_received_{0};
  std::atomic<std::uint64_t> cluster_batches_{0};
  std::atomic<std::uint64_t> cluster_notifications_{0};
  std::atomic<std::uint64_t> cluster_failures_{0};
  std::atomic<std::uint64_t> cluster_reconciliations_{0};
  std::atomic<std::uint64_t> cluster_reaped_{0};

  void render_cluster(std::string& out) const;
};

/// One open connection in signaling_open_connections, for as long as this lives: it moves with the
/// connection from its HTTP session to the WebSocket session that takes it over.
class counted_connection {
 public:
  counted_connection() = default;
  explicit counted_connection(metrics& counter) noexcept : metrics_(&counter) { counter.connection_opened(); }
  counted_connection(counted_connection&& other) noexcept : metrics_(std::exchange(other.metrics_, nullptr)) {}
  counted_connection& operator=(counted_connection&& other) noexcept {
    if (this != &other) {
      release();
      metrics_ = std::exchange(other.metrics_, nullptr);
    }
    return *this;
  }
  counted_connection(const counted_connection&) = delete;
  counted_connection& operator=(const counted_connection&) = delete;
  ~counted_connection() { release(); }

 private:
  void release() noexcept {
    if (metrics_) metrics_->connection_closed();
    metrics_ = nullptr;
  }
  metrics* metrics_ = nullptr;
};

}  // namespace sig::telemetry
