// What the REST API sees of live presence: who is online in an organization (GET .../peers and
// the "online" flag of GET .../ips), and taking registrations offline when their membership or
// allocation is removed.
#pragma once

#include "signaling/peer.hpp"

#include <span>
#include <vector>

namespace sig::signaling {

class presence_directory {
 public:
  virtual ~presence_directory() = default;
  /// The online peers of an organization, ordered by virtual IP. May block on the database (run
  /// it on a worker pool).
  virtual std::vector<peer_info> online_peers(domain::id organization_id) const = 0;
  /// Closes the connections of these registrations (wherever they live) and announces them
  /// offline. Called after the removal committed.
  virtual void disconnect(domain::id organization_id, std::span<const domain::ended_presence> ended) = 0;
  /// Peers whose connection is on this server process, all organizations together.
  virtual std::size_t online_count() const = 0;
  /// Presence is shared with the other server processes as it should be (a cluster's
  /// notifications flow); readiness fails otherwise.
  virtual bool is_live() const { return true; }
};

}  // namespace sig::signaling
