// The signaling hub: per-organization presence (who is online at which virtual IP, on which
// connection), registration with take-over, fan-out of peer_online / peer_offline / peer_update,
// and signal routing. Thread-safe. Each organization has its own mutex; every message for a
// receiver is queued while that mutex is held, so each receiver sees an organization's events in
// the order they happened. Connections are held weakly and only ever posted to.
//
// Registrations are ordered by their epoch (domain::epoch): at one address the larger epoch wins,
// whatever order the news arrives in. So a take-over race between processes has one winner, a
// stale announcement changes nothing, and a registration that a removal has ended already (its
// epoch is at or below the address's "floor") cannot come online afterwards.
#pragma once

#include "signaling/messages.hpp"
#include "signaling/peer_connection.hpp"
#include "signaling/presence_bus.hpp"
#include "signaling/presence_directory.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

namespace sig::signaling {

class hub final : public presence_directory {
 public:
  /// `self`: this process's id in the cluster (0 for a single process).
  explicit hub(presence_bus& bus, domain::process_id self = 0);
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  /// A ticket for a registration about to be looked up in the database: take it before the
  /// lookup and pass it to join(). A removal that commits after the lookup and disconnects before
  /// the join has ended every registration holding an older ticket.
  domain::epoch next_epoch() noexcept;

  /// Puts `peer` (a registration of this process) online at its virtual IP: a connection holding
  /// that address already is replaced (peer_offline for it, close 4000); `connection` gets its
  /// register_agent_response with the other online peers of the organization; they get
  /// peer_online. `peer.registration` is its epoch in a cluster (from the database, and `ticket`
  /// is that epoch too); 0 in a single process, where the hub numbers it now, so that the last to
  /// join wins. Returns its epoch; nullopt (and `connection` is disconnected) when a later
  /// registration holds the address already, or a removal ended this one (its ticket).
  /// `ice_servers_json`, when not empty, goes into the register_agent_response as it is.
  std::optional<domain::epoch> join(const std::shared_ptr<peer_connection>& connection, peer_info peer,
                                    const domain::cidr& subnet, domain::epoch ticket,
                                    std::string_view ice_servers_json = {});

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
  /// The online peers of an organization whose connection is on this process, by virtual IP.
  std::vector<peer_info> local_peers(domain::id organization_id) const;
  void disconnect(domain::id organization_id, std::span<const domain::ended_presence> ended) override;
  std::size_t online_count() const override;

  // -- the cluster: what other processes did, and the presence table ---------------------------

  /// A change made by another process (the bus of that process published it).
  void apply_remote(const presence_event& event);

  /// Marks the joins made so far; pass it to reconcile() with a snapshot taken after it.
  std::uint64_t join_mark() const noexcept;

  /// Brings this view in line with `rows`, a snapshot of the whole presence table taken after
  /// `mark`: announces what this process missed (while it could not listen), closes the local
  /// connections whose registration is gone (replaced: 4000; vanished: 1012) and keeps local
  /// joins newer than the snapshot.
  void reconcile(std::span<const peer_info> rows, std::uint64_t mark);

  /// Takes every registration of this process offline and closes its connections (this process
  /// was declared dead by the others, who announced them offline already).
  void drop_local(close_reason reason);

  /// Number and sum of epochs of the peers whose connection is on another process: compared with
  /// the presence table to notice a missed notification cheaply.
  std::pair<std::size_t, std::int64_t> remote_checksum() const;

 private:
  struct entry {
    peer_info peer;
    std::string json;                           // the peer object, serialized once per change
    std::weak_ptr<peer_connection> connection;  // empty for peers of other server processes
    bool local = false;
    std::uint64_t join_sequence = 0;  // local entries: when they joined (see join_mark)
  };
  // An address whose registrations up to `epoch` are known to be over, while news of them may
  // still be on its way. Kept for a while, not forever.
  struct floor {
    domain::epoch epoch = 0;
    std::chrono::steady_clock::time_point until;
  };
  struct organization {
    mutable std::mutex mutex;
    std::map<domain::ipv4, entry> peers;
    std::map<domain::ipv4, floor> floors;
  };
  using peer_iterator = std::map<domain::ipv4, entry>::iterator;

  std::shared_ptr<organization> organization_of(domain::id organization_id, bool create) const;
  std::vector<std::pair<domain::id, std::shared_ptr<organization>>> all_organizations() const;
  /// Erases `at` and announces it offline to the others; returns its connection if local.
  static std::shared_ptr<peer_connection> take_offline(organization& org, peer_iterator at);
  /// Adds a peer of another process (announced peer_online); replaces an older registration.
  static std::shared_ptr<peer_connection> put_remote(organization& org, const peer_info& peer);
  static void raise_floor(organization& org, domain::ipv4 address, domain::epoch epoch);
  static domain::epoch floor_of(organization& org, domain::ipv4 address);
  /// Ends every registration at `address` up to `epoch`; returns the local connection it closed.
  static std::shared_ptr<peer_connection> end_up_to(organization& org, domain::ipv4 address, domain::epoch epoch);
  void reconcile_organization(organization& org, std::span<const peer_info* const> rows, std::uint64_t mark,
                              std::vector<std::pair<std::shared_ptr<peer_connection>, close_reason>>& to_close);

  static void broadcast(const organization& org, domain::ipv4 except, const shared_message& message);

  presence_bus& bus_;
  const domain::process_id self_;
  std::atomic<domain::epoch> last_epoch_{0};
  std::atomic<std::uint64_t> joins_{0};
  mutable std::mutex organizations_mutex_;
  mutable std::unordered_map<domain::id, std::shared_ptr<organization>> organizations_;
};

}  // namespace sig::signaling
