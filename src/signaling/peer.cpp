// Peer objects; see peer.hpp.
#include "signaling/peer.hpp"

#include "core/random.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sig::signaling {

namespace json = boost::json;

std::string peer_json(const peer_info& peer) {
  const auto& at = peer.reachable;
  json::object object{
      {"peer_id", peer.peer_id},
      {"user_id", peer.user_id},
      {"email", peer.email},
      {"agent_id", peer.agent_id ? json::value(*peer.agent_id) : json::value(nullptr)},
      {"public_ip", at.public_ip},
      {"public_port", at.public_port},
      {"relay_ip", at.relay_ip ? json::value(*at.relay_ip) : json::value(nullptr)},
      {"relay_port", at.relay_port ? json::value(*at.relay_port) : json::value(nullptr)},
      {"virtual_ip", domain::format_ipv4(peer.virtual_ip)},
  };
  return json::serialize(object);
}

std::string generate_peer_id() { return "peer-" + random_hex(6); }

}  // namespace sig::signaling
