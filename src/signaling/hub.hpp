// The signaling hub: per-organization presence (who is online at which virtual IP, on which
// connection), registration with take-over, fan-out of peer_online / peer_offline / peer_update,
// and signal routing. Thread-safe. Each organization has its own mutex; every message for a
// receiver is queued while that mutex is held, so each receiver sees an organization's events in
// the order they happened. Connections are held weakly and only ever posted to.
#pragma once

#include "signaling/messages.hpp"
#include "signaling/peer_connection.hpp"
#include "signaling/presence_bus.hpp"
#include "signaling/presence_directory.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace sig::signaling {

class hub final : public presence_directory {
 public:
  explicit hub(presence_bus& bus);
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  /// Puts `peer` online at its virtual IP: a connection holding that address already is replaced
  /// (peer_offline for it, close 4000); `connection` gets its register_agent_response with the
  /// other online peers of the organization; they get peer_online.
  void join(const std::shared_ptr<peer_connection>& connection, const peer_info& peer, const domain::cidr& subnet);

  /// Takes the registration offline and announces it, unless it was replaced or removed already:
  /// a registration goes offline exactly once.
  void leave(const peer_info& peer);

  /// New endpoints for a registration, announced as peer_update. nullopt when it is no longer the
  /// current registration of its address.
  std::optional<peer_info> update(const peer_info& peer, const update_request& request);

  /// Delivers {"type": "signal", ...} to the peer of the sender's organization that `to` names:
  /// a virtual IP, else a peer_id held by exactly one online peer. False when there is none.
  bool relay(const peer_info& from, std::string_view to, const std::string& data_json);

  std::vector<peer_info> online_peers(domain::id organization_id) const override;
  void disconnect(domain::id organization_id, std::span<const domain::ipv4> addresses) override;

  std::size_t online_count() const override;

 private:
  struct entry {
    peer_info peer;
    std::string json;                           // the peer object, serialized once per change
    std::weak_ptr<peer_connection> connection;  // empty for peers of other server processes
  };
  struct organization {
    mutable std::mutex mutex;
    std::map<domain::ipv4, entry> peers;
  };

  std::shared_ptr<organization> organization_of(domain::id organization_id, bool create) const;
  /// Erases `at` and announces it offline to the others; returns its connection.
  std::shared_ptr<peer_connection> take_offline(organization& org, std::map<domain::ipv4, entry>::iterator at);
  void apply_remote(const presence_event& event);

  static void broadcast(const organization& org, domain::ipv4 except, const shared_message& message);

  presence_bus& bus_;
  mutable std::mutex organizations_mutex_;
  mutable std::unordered_map<domain::id, std::shared_ptr<organization>> organizations_;
};

}  // namespace sig::signaling
