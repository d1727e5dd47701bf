// What the REST API sees of live presence: who is online in an organization (GET .../peers and
// the "online" flag of GET .../ips), and taking addresses offline when their membership or
// allocation is removed.
#pragma once

#include "signaling/peer.hpp"

#include <span>
#include <vector>

namespace sig::signaling {

class presence_directory {
 public:
  virtual ~presence_directory() = default;
  /// The online peers of an organization, ordered by virtual IP.
  virtual std::vector<peer_info> online_peers(domain::id organization_id) const = 0;
  /// Closes the connections holding these addresses and announces them offline.
  virtual void disconnect(domain::id organization_id, std::span<const domain::ipv4> addresses) = 0;
  /// Peers online on this server, all organizations together.
  virtual std::size_t online_count() const = 0;
};

}  // namespace sig::signaling
