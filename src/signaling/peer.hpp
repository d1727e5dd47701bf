// An online peer as the signaling protocol describes it (PROTOCOL.md §5.3): the record lives in
// domain/presence.hpp; this file adds its JSON form and the generated peer ids.
#pragma once

#include "domain/presence.hpp"

#include <string>

namespace sig::signaling {

using domain::endpoints;
using domain::peer_info;

/// The peer object of the protocol: {"peer_id", "user_id", "email", "agent_id", "public_ip",
/// "public_port", "relay_ip", "relay_port", "virtual_ip"}, absent values as null.
std::string peer_json(const peer_info& peer);

/// "peer-" followed by 12 random hex characters.
std::string generate_peer_id();

}  // namespace sig::signaling
