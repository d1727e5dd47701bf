// This process's one writer of presence (cluster_store.hpp): a thread that takes what the hub and
// the agents' registrations queued, and writes it with its notifications in one transaction per
// batch, on one connection. Batches form by themselves: whatever was queued while the previous
// transaction ran goes into the next (registrations registrations_per_batch at a time). The same
// thread heartbeats (between batches, and between the joins of a batch) and reaps dead processes.
//
// Registrations are claimed here, and joined to the hub here, in the order of their epochs, so
// that the last registration of an address is the one that stays online.
#pragma once

#include "cluster/cluster_config.hpp"
#include "cluster/payloads.hpp"
#include "signaling/hub.hpp"
#include "store/cluster_store.hpp"
#include "telemetry/metrics.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sig::cluster {

/// How a registration ended: an error (errc::not_a_member, address_not_found; overloaded when
/// the database failed), nullopt when it was claimed but a later registration or a removal got
/// there first (its connection is being closed), else the peer online with its epoch.
using registration_outcome = result<std::optional<domain::peer_info>>;

struct registration {
  store::presence_claim claim;
  std::shared_ptr<signaling::peer_connection> connection;
  std::function<void(registration_outcome)> done;  // called on the publisher's thread
  std::string ice_servers_json;                    // for the register_agent_response; empty: none
};

/// The channels of a cluster: one for presence, one per process for what is addressed to it.
struct channels {
  std::string prefix;
  std::string presence() const { return prefix + "_presence"; }
  std::string process(domain::process_id id) const { return prefix + "_process_" + std::to_string(id); }
};

class publisher {
 public:
  publisher(store::cluster_store& db, signaling::hub& hub, telemetry::metrics& metrics, const cluster_config& config,
            domain::process_id self, channels names);
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;
  ~publisher();

  /// `on_declared_dead`: called (on the publisher's thread) when a heartbeat finds that the
  /// others declared this process dead.
  void start(std::function<void()> on_declared_dead);
  /// Sends what is queued (for at most `grace`), leaves the cluster, and stops.
  void stop(std::chrono::milliseconds grace);

  void enqueue(const signaling::presence_event& event);
  void enqueue(registration r);

  /// False while the database refuses this process's writes.
  bool healthy() const noexcept { return healthy_.load(std::memory_order_relaxed); }

  /// At most this many registrations per transaction: no heartbeat can come during a transaction,
  /// and one with thousands of claims (agents reconnecting after a restart, into a large
  /// organization) would hold it back until the others declared this busy process dead.
  static constexpr std::size_t registrations_per_batch = 64;

 private:
  struct batch {
    std::vector<registration> registrations;
    std::vector<signaling::presence_event> events;
  };

  void run();
  /// Moves what is queued into `work`: every event, and the registrations up to
  /// registrations_per_batch, oldest first. Under mutex_.
  void take_queued(batch& work);
  bool publish(batch& work);
  enum class liveness { alive, declared_dead };
  /// Heartbeats if one is due (every dead_after / 5): between batches, and between the joins of a
  /// batch. declared_dead when the others had declared this process dead (its row was gone).
  liveness heartbeat_when_due();
  /// Closes this process's agents so that they register again, and asks for a reconciliation.
  void declared_dead();
  void reap();
  std::vector<store::notification> notifications_of(std::span<const result<store::claimed_presence>> claims,
                                                    std::span<const signaling::presence_event> events);
  void join_claimed(batch& work, std::vector<result<store::claimed_presence>>& outcomes);

  store::cluster_store& db_;
  signaling::hub& hub_;
  telemetry::metrics& metrics_;
  const cluster_config config_;
  const domain::process_id self_;
  const channels names_;
  payload_packer packer_;
  std::function<void()> on_declared_dead_;

  std::mutex mutex_;
  std::condition_variable wake_;
  batch queued_;  // guarded by mutex_
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_by_;

  std::atomic<bool> healthy_{true};
  std::chrono::steady_clock::time_point reliable_since_;  // the last failure to write, or start
  std::chrono::steady_clock::time_point next_heartbeat_;  // publisher's thread only
  std::thread thread_;
};

}  // namespace sig::cluster
