// Notification payloads; see payloads.hpp. A payload is
//   {"o": <origin process>, "s": <sequence>, "e": [<event>, ...]}
// and an event {"k": "on" | "off" | "up" | "sig", "g": <organization>, "i": <virtual IP>,
// "n": <epoch>, ...}: online and update carry the whole peer, offline its cause ("c"), signal
// its target ("t", "tp") and the message ready to deliver ("m").
#include "cluster/payloads.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>

namespace sig::cluster {
namespace {

namespace json = boost::json;
using event = signaling::presence_event;

constexpr std::array<std::string_view, 4> kind_names{"on", "off", "up", "sig"};
constexpr std::array<std::string_view, 4> cause_names{"left", "replaced", "removed", "lost"};

json::value optional_text(const std::optional<std::string>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

json::object encode(const event& e) {
  const domain::peer_info& p = e.peer;
  json::object o{{"k", kind_names[static_cast<std::size_t>(e.what)]},
                 {"g", p.organization_id},
                 {"i", p.virtual_ip},
                 {"n", p.registration}};
  switch (e.what) {
    case event::kind::online:
    case event::kind::update:
      o["p"] = p.process;
      o["cid"] = p.connection_id;
      o["pid"] = p.peer_id;
      o["uid"] = p.user_id;
      o["em"] = p.email;
      o["aid"] = optional_text(p.agent_id);
      o["pip"] = p.reachable.public_ip;
      o["pp"] = p.reachable.public_port;
      o["rip"] = optional_text(p.reachable.relay_ip);
      o["rp"] = p.reachable.relay_port ? json::value(*p.reachable.relay_port) : json::value(nullptr);
      break;
    case event::kind::offline: o["c"] = cause_names[static_cast<std::size_t>(e.why)]; break;
    case event::kind::signal:
      o["t"] = e.target;
      o["tp"] = e.target_process;
      o["m"] = e.payload;
      break;
  }
  return o;
}

// Strict readers: a missing member or a wrong type throws, and the payload is refused whole.
struct reader {
  const json::object& o;
  const json::value& at(std::string_view key) const {
    const auto* v = o.if_contains(key);
    if (!v) throw std::invalid_argument("missing \"" + std::string(key) + "\"");
    return *v;
  }
  std::int64_t integer(std::string_view key) const { return at(key).to_number<std::int64_t>(); }
  std::string text(std::string_view key) const { return std::string(at(key).as_string()); }
  std::optional<std::string> optional_text(std::string_view key) const {
    const auto& v = at(key);
    if (v.is_null()) return std::nullopt;
    return std::string(v.as_string());
  }
  template <class T>
  T bounded(std::string_view key, std::int64_t max) const {
    const std::int64_t value = integer(key);
    if (value < 0 || value > max) throw std::invalid_argument("\"" + std::string(key) + "\" out of range");
    return static_cast<T>(value);
  }
};

template <std::size_t N>
std::size_t index_of(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == name) return i;
  throw std::invalid_argument("unknown name \"" + std::string(name) + "\"");
}

event decode(const json::object& o) {
  const reader r{o};
  event e;
  e.what = static_cast<event::kind>(index_of(kind_names, r.text("k")));
  domain::peer_info& p = e.peer;
  p.organization_id = r.integer("g");
  p.virtual_ip = r.bounded<domain::ipv4>("i", 0xFFFFFFFF);
  p.registration = r.integer("n");
  switch (e.what) {
    case event::kind::online:
    case event::kind::update:
      p.process = r.integer("p");
      p.connection_id = r.text("cid");
      p.peer_id = r.text("pid");
      p.user_id = r.integer("uid");
      p.email = r.text("em");
      p.agent_id = r.optional_text("aid");
      p.reachable.public_ip = r.text("pip");
      p.reachable.public_port = r.bounded<std::uint16_t>("pp", 65535);
      p.reachable.relay_ip = r.optional_text("rip");
      if (!r.at("rp").is_null()) p.reachable.relay_port = r.bounded<std::uint16_t>("rp", 65535);
      break;
    case event::kind::offline: e.why = static_cast<event::cause>(index_of(cause_names, r.text("c"))); break;
    case event::kind::signal:
      e.target = r.bounded<domain::ipv4>("t", 0xFFFFFFFF);
      e.target_process = r.integer("tp");
      e.payload = r.text("m");
      break;
  }
  return e;
}

}  // namespace

std::vector<std::string> payload_packer::pack(std::span<const signaling::presence_event> events) {
  std::vector<std::string> payloads;
  std::string items;
  const auto flush = [&] {
    if (items.empty()) return;
    payloads.push_back(R"({"o":)" + std::to_string(origin_) + R"(,"s":)" + std::to_string(++sequence_) + R"(,"e":[)" +
                       items + "]}");
    items.clear();
  };
  constexpr std::size_t header_bytes = 64;  // {"o":...,"s":...,"e":[...]} around the events
  for (const event& e : events) {
    const std::string item = json::serialize(encode(e));
    if (!items.empty() && header_bytes + items.size() + 1 + item.size() > max_bytes_) flush();
    if (!items.empty()) items += ',';
    items += item;
  }
  flush();
  return payloads;
}

std::expected<unpacked, std::string> unpack(std::string_view payload) {
  try {
    const json::value parsed = json::parse(payload);
    const reader r{parsed.as_object()};
    unpacked result;
    result.origin = r.integer("o");
    result.sequence = static_cast<std::uint64_t>(r.integer("s"));
    for (const json::value& item : r.at("e").as_array()) result.events.push_back(decode(item.as_object()));
    return result;
  } catch (const std::exception& e) {
    return std::unexpected(std::string("malformed cluster notification: ") + e.what());
  }
}

}  // namespace sig::cluster
