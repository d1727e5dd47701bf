// An online peer as the signaling protocol describes it (PROTOCOL.md §5.3): who it is, where
// its organization placed it, and the public and relay endpoints it reported.
#pragma once

#include "domain/ipv4.hpp"
#include "domain/model.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace sig::signaling {

/// The endpoints an agent learned from STUN (public) and TURN (relay).
struct endpoints {
  std::string public_ip;
  std::uint16_t public_port = 0;
  std::optional<std::string> relay_ip;
  std::optional<std::uint16_t> relay_port;

  friend bool operator==(const endpoints&, const endpoints&) = default;
};

struct peer_info {
  std::string peer_id;  // agent_id when given, else "peer-" + 12 hex
  domain::id user_id = 0;
  std::string email;
  std::optional<std::string> agent_id;
  endpoints reachable;
  domain::id organization_id = 0;
  domain::ipv4 virtual_ip = 0;
  std::string connection_id;  // UUIDv4 of the registration
};

/// The peer object of the protocol: {"peer_id", "user_id", "email", "agent_id", "public_ip",
/// "public_port", "relay_ip", "relay_port", "virtual_ip"}, absent values as null.
std::string peer_json(const peer_info& peer);

/// "peer-" followed by 12 random hex characters.
std::string generate_peer_id();

}  // namespace sig::signaling
