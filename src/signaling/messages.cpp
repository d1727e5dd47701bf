// Protocol messages; see messages.hpp.
#include "signaling/messages.hpp"

#include "core/json_parse.hpp"
#include "domain/validation.hpp"

#include <boost/json/serialize.hpp>

namespace sig::signaling {
namespace {

namespace json = boost::json;

shared_message share(outbound_kind kind, std::string text) {
  return std::make_shared<const outbound_message>(outbound_message{kind, std::move(text)});
}

bool is_missing(const json::value* v) { return !v || v->is_null() || (v->is_string() && v->get_string().empty()); }

std::optional<std::string> ip_of(const json::value& v) {
  if (!v.is_string()) return std::nullopt;
  const auto checked = domain::validate_endpoint_ip(std::string_view(v.get_string()));
  return checked ? std::optional(*checked) : std::nullopt;
}

std::optional<std::uint16_t> port_of(const json::value& v) {
  if (!v.is_int64()) return std::nullopt;
  const auto checked = domain::validate_port(v.get_int64());
  return checked ? std::optional(*checked) : std::nullopt;
}

// A relay field: absent or null is "no relay"; otherwise it must be valid.
template <class T, class Read>
std::expected<std::optional<T>, std::string_view> optional_field(const json::object& body, std::string_view name,
                                                                 Read read, std::string_view error) {
  const json::value* v = body.if_contains(name);
  if (!v || v->is_null()) return std::optional<T>{};
  auto value = read(*v);
  if (!value) return std::unexpected(error);
  return std::optional<T>(std::move(*value));
}

}  // namespace

std::expected<envelope, std::string_view> read_envelope(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed) return std::unexpected(errors::invalid_json);
  envelope message;
  if (!parsed->is_object()) return message;
  message.body = std::move(parsed->as_object());
  const json::value* type = message.body.if_contains("type");
  if (type && type->is_string()) {
    const std::string_view name = type->get_string();
    if (name == "register")
      message.type = message_type::register_agent;
    else if (name == "ping")
      message.type = message_type::ping;
    else if (name == "signal")
      message.type = message_type::signal;
    else if (name == "update")
      message.type = message_type::update;
  }
  return message;
}

std::expected<register_request, std::string_view> read_register(const json::object& body) {
  const json::value* public_ip = body.if_contains("public_ip");
  const json::value* public_port = body.if_contains("public_port");
  if (is_missing(public_ip) || is_missing(public_port)) return std::unexpected(errors::missing_fields);
  register_request request;
  auto ip = ip_of(*public_ip);
  if (!ip) return std::unexpected(errors::invalid_public_ip);
  const auto port = port_of(*public_port);
  if (!port) return std::unexpected(errors::invalid_public_port);
  request.reachable.public_ip = std::move(*ip);
  request.reachable.public_port = *port;

  auto relay_ip = optional_field<std::string>(body, "relay_ip", ip_of, errors::invalid_relay_ip);
  if (!relay_ip) return std::unexpected(relay_ip.error());
  auto relay_port = optional_field<std::uint16_t>(body, "relay_port", port_of, errors::invalid_relay_port);
  if (!relay_port) return std::unexpected(relay_port.error());
  request.reachable.relay_ip = std::move(*relay_ip);
  request.reachable.relay_port = *relay_port;

  const auto read_agent_id = [](const json::value& v) -> std::optional<std::string> {
    if (!v.is_string()) return std::nullopt;
    auto checked = domain::validate_agent_id(std::string_view(v.get_string()));
    return checked ? std::optional(std::move(*checked)) : std::nullopt;
  };
  auto agent_id = optional_field<std::string>(body, "agent_id", read_agent_id, errors::invalid_agent_id);
  if (!agent_id) return std::unexpected(agent_id.error());
  request.agent_id = std::move(*agent_id);

  const auto read_organization = [](const json::value& v) -> std::optional<domain::id> {
    if (!v.is_int64() || v.get_int64() <= 0) return std::nullopt;
    return v.get_int64();
  };
  auto organization =
      optional_field<domain::id>(body, "organization_id", read_organization, errors::invalid_organization_id);
  if (!organization) return std::unexpected(organization.error());
  request.organization_id = *organization;
  return request;
}

std::expected<signal_request, std::string_view> read_signal(const json::object& body) {
  const json::value* to = body.if_contains("to");
  if (!to || !to->is_string() || to->get_string().empty()) return std::unexpected(errors::invalid_signal);
  const json::value* data = body.if_contains("data");
  return signal_request{std::string(to->get_string()), data ? json::serialize(*data) : "null"};
}

std::expected<update_request, std::string_view> read_update(const json::object& body) {
  update_request update;
  if (const json::value* v = body.if_contains("public_ip")) {
    update.public_ip = ip_of(*v);
    if (!update.public_ip) return std::unexpected(errors::invalid_public_ip);
  }
  if (const json::value* v = body.if_contains("public_port")) {
    update.public_port = port_of(*v);
    if (!update.public_port) return std::unexpected(errors::invalid_public_port);
  }
  if (body.contains("relay_ip")) {
    auto relay_ip = optional_field<std::string>(body, "relay_ip", ip_of, errors::invalid_relay_ip);
    if (!relay_ip) return std::unexpected(relay_ip.error());
    update.relay_ip = std::move(*relay_ip);
  }
  if (body.contains("relay_port")) {
    auto relay_port = optional_field<std::uint16_t>(body, "relay_port", port_of, errors::invalid_relay_port);
    if (!relay_port) return std::unexpected(relay_port.error());
    update.relay_port = *relay_port;
  }
  return update;
}

endpoints apply_update(endpoints current, const update_request& update) {
  if (update.public_ip) current.public_ip = *update.public_ip;
  if (update.public_port) current.public_port = *update.public_port;
  if (update.relay_ip) current.relay_ip = *update.relay_ip;
  if (update.relay_port) current.relay_port = *update.relay_port;
  return current;
}

std::string ice_servers_json(std::span<const ice_server> servers) {
  json::array list;
  for (const ice_server& server : servers) {
    if (server.urls.empty()) continue;
    json::object entry{{"urls", json::array(server.urls.begin(), server.urls.end())}};
    if (!server.username.empty()) {
      entry["username"] = server.username;
      entry["credential"] = server.credential;
    }
    list.push_back(std::move(entry));
  }
  return json::serialize(list);
}

shared_message registered_message(const peer_info& self, const domain::cidr& subnet,
                                  std::span<const std::string* const> existing_peer_json,
                                  std::string_view ice_servers_json) {
  std::string text = R"({"type":"register_agent_response","status":"registered","virtual_ip":")";
  text += domain::format_ipv4(self.virtual_ip);
  text += R"(","connection_id":")";
  text += self.connection_id;
  text += R"(","existing_peers":[)";
  for (std::size_t i = 0; i < existing_peer_json.size(); ++i) {
    if (i > 0) text.push_back(',');
    text += *existing_peer_json[i];
  }
  text += R"(],"peer_id":)";
  text += json::serialize(json::string(self.peer_id));
  text += R"(,"organization_id":)";
  text += std::to_string(self.organization_id);
  text += R"(,"subnet":")";
  text += subnet.to_string();
  text.push_back('"');
  if (!ice_servers_json.empty()) {
    text += R"(,"ice_servers":)";
    text += ice_servers_json;
  }
  text.push_back('}');
  return share(outbound_kind::registered, std::move(text));
}

shared_message ice_servers_message(std::string_view ice_servers_json) {
  std::string text = R"({"type":"ice_servers","ice_servers":)";
  text += ice_servers_json;
  text.push_back('}');
  return share(outbound_kind::ice_servers, std::move(text));
}

shared_message peer_online_message(const std::string& peer_object_json) {
  return share(outbound_kind::peer_online, R"({"type":"peer_online","peer":)" + peer_object_json + "}");
}

shared_message peer_update_message(const std::string& peer_object_json) {
  return share(outbound_kind::peer_update, R"({"type":"peer_update","peer":)" + peer_object_json + "}");
}

shared_message peer_offline_message(const peer_info& peer) {
  return share(outbound_kind::peer_offline,
               json::serialize(json::object{{"type", "peer_offline"},
                                            {"peer_id", peer.peer_id},
                                            {"user_id", peer.user_id},
                                            {"virtual_ip", domain::format_ipv4(peer.virtual_ip)}}));
}

shared_message signal_message(const peer_info& from, const std::string& data_json) {
  std::string text = R"({"type":"signal","from":)";
  text += json::serialize(json::string(from.peer_id));
  text += R"(,"from_virtual_ip":")";
  text += domain::format_ipv4(from.virtual_ip);
  text += R"(","from_user_id":)";
  text += std::to_string(from.user_id);
  text += R"(,"data":)";
  text += data_json;
  text.push_back('}');
  return share(outbound_kind::signal, std::move(text));
}

shared_message relayed_signal_message(std::string text) { return share(outbound_kind::signal, std::move(text)); }

shared_message error_message(std::string_view error) {
  return share(outbound_kind::error, json::serialize(json::object{{"error", error}}));
}

shared_message pong_message() {
  static const shared_message pong = share(outbound_kind::pong, R"({"type":"pong"})");
  return pong;
}

}  // namespace sig::signaling
