// This server process as a member of a cluster (PROTOCOL.md §7): its row in the processes table,
// its publisher (presence writes, heartbeats, reaping) and its listener (the others' news), and
// the presence bus its hub publishes to. With SQLite there is no cluster: the hub uses local_bus.
#pragma once

#include "cluster/cluster_config.hpp"
#include "cluster/listener.hpp"
#include "cluster/publisher.hpp"
#include "signaling/hub.hpp"
#include "signaling/presence_directory.hpp"
#include "store/cluster_store.hpp"

#include <memory>

namespace sig::cluster {

class cluster_node final : public signaling::presence_bus {
 public:
  /// Joins the cluster: a new row in the processes table. Throws store_unavailable.
  cluster_node(store::cluster_store& db, cluster_config config);
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;
  ~cluster_node() override;

  domain::process_id id() const noexcept { return self_; }

  /// Starts publishing and listening for `hub`, which was made with this node as its bus and
  /// id() as its process id; their figures go to `metrics`.
  void start(signaling::hub& hub, telemetry::metrics& metrics);
  /// Sends what is queued (for at most `grace`), leaves the cluster and stops the threads.
  void stop(std::chrono::milliseconds grace);

  void publish(const signaling::presence_event& event) override;
  /// Claims a registration and, once claimed, joins it to the hub; `r.done` is called on the
  /// publisher's thread.
  void register_peer(registration r);

  /// Listening, and the database takes this process's writes: fit to serve agents.
  bool ready() const noexcept;
  /// Waits (at most `limit`) until ready(): the hub knows who is online on the other processes,
  /// so that the first registrations get their true existing_peers. False if it was not.
  bool wait_ready(std::chrono::milliseconds limit) const;

 private:
  store::cluster_store& db_;
  const cluster_config config_;
  const domain::process_id self_;
  const channels names_;
  std::unique_ptr<publisher> publisher_;
  std::unique_ptr<listener> listener_;
};

/// What the REST API sees of presence in a cluster: the presence table, the truth shared by
/// every process (a removal deletes the rows in the transaction the REST call waits for), where
/// this process's own rows are read from its hub, which is ahead of its publisher (a registration
/// that ended or moved a moment ago). Removals go through the hub to wherever the connection is.
class cluster_directory final : public signaling::presence_directory {
 public:
  cluster_directory(store::cluster_store& db, signaling::hub& hub, const cluster_node& node)
      : db_(db), hub_(hub), node_(node) {}
  std::vector<signaling::peer_info> online_peers(domain::id organization_id) const override;
  void disconnect(domain::id organization_id, std::span<const domain::ended_presence> ended) override {
    hub_.disconnect(organization_id, ended);
  }
  std::size_t online_count() const override { return hub_.online_count(); }
  bool is_live() const override { return node_.ready(); }

 private:
  store::cluster_store& db_;
  signaling::hub& hub_;
  const cluster_node& node_;
};

}  // namespace sig::cluster
