// The signaling protocol's messages (PROTOCOL.md §5): reading what agents send, with the exact
// error strings of the contract, and building what the server sends. Server messages are built
// once as shared immutable buffers, so a broadcast shares one allocation among its receivers.
#pragma once

#include "signaling/peer.hpp"

#include <boost/json/object.hpp>

#include <array>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sig::signaling {

/// What the server sends, by type (for metrics); names in outbound_kind_names.
enum class outbound_kind : std::uint8_t {
  registered,
  peer_online,
  peer_offline,
  peer_update,
  signal,
  pong,
  error,
  ice_servers
};
inline constexpr std::array<std::string_view, 8> outbound_kind_names{
    "register_agent_response", "peer_online", "peer_offline", "peer_update", "signal", "pong", "error", "ice_servers"};

struct outbound_message {
  outbound_kind kind;
  std::string text;  // the JSON sent as one text frame
};
using shared_message = std::shared_ptr<const outbound_message>;

/// The error strings of the contract, sent as {"error": ...}.
namespace errors {
inline constexpr std::string_view no_token = "No token provided";
inline constexpr std::string_view invalid_token = "Invalid token";
inline constexpr std::string_view invalid_json = "Invalid JSON";
inline constexpr std::string_view first_must_register = "First message must be register";
inline constexpr std::string_view missing_fields = "Missing required fields: public_ip, public_port";
inline constexpr std::string_view not_member = "User not member of any organization";
inline constexpr std::string_view not_member_of_organization = "User not member of organization";
inline constexpr std::string_view no_address = "No virtual IP allocated for user in any organization";
inline constexpr std::string_view no_address_in_organization = "No virtual IP allocated for user in organization";
inline constexpr std::string_view registration_failed = "Registration failed";
inline constexpr std::string_view invalid_public_ip = "Invalid public_ip";
inline constexpr std::string_view invalid_public_port = "Invalid public_port";
inline constexpr std::string_view invalid_relay_ip = "Invalid relay_ip";
inline constexpr std::string_view invalid_relay_port = "Invalid relay_port";
inline constexpr std::string_view invalid_agent_id = "Invalid agent_id";
inline constexpr std::string_view invalid_organization_id = "Invalid organization_id";
inline constexpr std::string_view already_registered = "Already registered";
inline constexpr std::string_view registration_timeout = "Registration timeout";
inline constexpr std::string_view too_many_connections = "Too many connections";  // MAX_WEBSOCKETS_PER_USER
inline constexpr std::string_view unknown_type = "Unknown message type";
inline constexpr std::string_view unknown_peer = "Unknown peer";
inline constexpr std::string_view invalid_signal = "Invalid signal";
inline constexpr std::string_view rate_limited = "Rate limit exceeded";
}  // namespace errors

enum class message_type { register_agent, ping, signal, update, unknown };
/// Names of what agents send, by message_type, then "invalid" for what is not JSON (for metrics).
inline constexpr std::array<std::string_view, 6> inbound_kind_names{"register", "ping",    "signal",
                                                                    "update",   "unknown", "invalid"};

/// A JSON object with its "type"; anything that is JSON but not an object has type unknown.
struct envelope {
  message_type type = message_type::unknown;
  boost::json::object body;
};

/// errors::invalid_json for anything that is not strict JSON (including duplicate keys).
std::expected<envelope, std::string_view> read_envelope(std::string_view text);

struct register_request {
  std::optional<std::string> agent_id;
  endpoints reachable;
  std::optional<domain::id> organization_id;
};
std::expected<register_request, std::string_view> read_register(const boost::json::object& body);

struct signal_request {
  std::string to;         // a virtual IP or a peer_id
  std::string data_json;  // "data" re-serialized ("null" when absent)
};
std::expected<signal_request, std::string_view> read_signal(const boost::json::object& body);

/// Fields present in an update; relay fields set to null are cleared.
struct update_request {
  std::optional<std::string> public_ip;
  std::optional<std::uint16_t> public_port;
  std::optional<std::optional<std::string>> relay_ip;
  std::optional<std::optional<std::uint16_t>> relay_port;
};
std::expected<update_request, std::string_view> read_update(const boost::json::object& body);
/// The endpoints after applying an update.
endpoints apply_update(endpoints current, const update_request& update);

/// One entry of "ice_servers", WebRTC's RTCIceServer: STUN URLs alone, TURN URLs with credentials.
struct ice_server {
  std::span<const std::string> urls;
  std::string_view username;  // empty: none (and no credential)
  std::string_view credential;
};
/// [{"urls": [...], "username"?, "credential"?}, ...]; entries without URLs are left out.
std::string ice_servers_json(std::span<const ice_server> servers);

/// {"type": "register_agent_response", "status": "registered", "virtual_ip", "connection_id",
/// "existing_peers": [...], "peer_id", "organization_id", "subnet"} and "ice_servers" when
/// `ice_servers_json` (from ice_servers_json()) is not empty.
shared_message registered_message(const peer_info& self, const domain::cidr& subnet,
                                  std::span<const std::string* const> existing_peer_json,
                                  std::string_view ice_servers_json = {});
/// {"type": "ice_servers", "ice_servers": [...]}: fresh TURN credentials before the last expire.
shared_message ice_servers_message(std::string_view ice_servers_json);
shared_message peer_online_message(const std::string& peer_object_json);
shared_message peer_update_message(const std::string& peer_object_json);
shared_message peer_offline_message(const peer_info& peer);
shared_message signal_message(const peer_info& from, const std::string& data_json);
/// A signal message built by another server process, delivered as it is.
shared_message relayed_signal_message(std::string text);
shared_message error_message(std::string_view error);
shared_message pong_message();

}  // namespace sig::signaling
