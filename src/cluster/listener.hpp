// This process's ear in the cluster: a thread on one LISTEN connection that applies what the
// other processes announce to the hub. NOTIFY is not durable, so whenever the connection is
// (re)opened, or a cheap periodic checksum of the presence table disagrees with the hub, the hub
// is reconciled with a snapshot of the table: a process that starts late or loses its connection
// misses nothing.
#pragma once

#include "cluster/cluster_config.hpp"
#include "cluster/publisher.hpp"
#include "signaling/hub.hpp"
#include "store/cluster_store.hpp"
#include "telemetry/metrics.hpp"

#include <atomic>
#include <thread>

namespace sig::cluster {

class listener {
 public:
  listener(store::cluster_store& db, signaling::hub& hub, telemetry::metrics& metrics, const cluster_config& config,
           domain::process_id self, channels names);
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  ~listener();

  void start();
  void stop();

  /// True once the hub is in line with the table and notifications are flowing.
  bool connected() const noexcept { return connected_.load(std::memory_order_relaxed); }
  /// Reconcile at the next opportunity (this process was declared dead meanwhile, say).
  void request_reconciliation() noexcept { reconcile_requested_.store(true, std::memory_order_relaxed); }
  /// Reconciliations so far (for tests and metrics).
  std::uint64_t reconciliations() const noexcept { return reconciliations_.load(std::memory_order_relaxed); }

 private:
  void run();
  void listen_until_lost();
  void reconcile(store::notification_listener& connection);
  void apply(const store::notification& n);

  store::cluster_store& db_;
  signaling::hub& hub_;
  telemetry::metrics& metrics_;
  const cluster_config config_;
  const domain::process_id self_;
  const channels names_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<bool> reconcile_requested_{false};
  std::atomic<std::uint64_t> reconciliations_{0};
  std::thread thread_;
};

}  // namespace sig::cluster
