// The WebSocket side of the ceiling server: upgrade with its token check, register, presence
// (existing_peers, peer_online, peer_offline), signal relay, ping.
//
// Frames are assumed whole (FIN set, no continuation): the generator never fragments, and a
// fragmented message is refused with close 1003. Every message is built once into a scratch
// string and framed once; broadcasting appends the same frame to each receiver's output.
#include <cstdio>

#include "../common/json_scan.hpp"
#include "../common/ws_frame.hpp"
#include "http.hpp"
#include "ws_accept.hpp"

namespace ceiling {

namespace {

std::string msg;        // the message being built
std::string broadcast;  // the frame being sent to many

std::string_view query_token(std::string_view query) {
  for (std::size_t pos = 0; pos < query.size();) {
    std::size_t amp = query.find('&', pos);
    std::string_view kv = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (kv.substr(0, 6) == "token=") return kv.substr(6);
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return {};
}

void refuse(server& s, conn& c, std::string_view error) {
  msg.assign(R"({"error":")").append(error).append("\"}");
  s.queue_text(c, msg);
  s.queue_close(c, 1008);
}

void send_error(server& s, conn& c, std::string_view error) {
  msg.assign(R"({"error":")").append(error).append("\"}");
  s.queue_text(c, msg);
}

std::string_view or_null(std::string_view raw) { return raw.empty() ? std::string_view("null") : raw; }

// Sends the frame in `broadcast` to every registered peer of `org` except `except`.
void to_others(server& s, int org, const conn* except) {
  for (conn* other : s.m.orgs[org].online)
    if (other != except) s.queue(*other, broadcast);
}

void go_offline(server& s, conn& c) {
  organization& o = s.m.orgs[c.org];
  conn* last = o.online.back();
  o.online[c.slot] = last;
  last->slot = c.slot;
  o.online.pop_back();
  auto it = o.by_ip.find(c.ip);
  if (it != o.by_ip.end() && it->second == &c) o.by_ip.erase(it);
  c.registered = false;
  msg.assign(R"({"type":"peer_offline","peer_id":")")
      .append(c.peer_id)
      .append(R"(","user_id":)")
      .append(std::to_string(c.user))
      .append(R"(,"virtual_ip":")")
      .append(ipv4_text(c.ip))
      .append("\"}");
  broadcast.clear();
  wsf::append_frame(broadcast, wsf::text, msg, false);
  to_others(s, c.org, &c);
}

void on_register(server& s, conn& c, std::string_view m) {
  const std::string_view public_ip = jscan::field(m, "public_ip");
  const std::string_view public_port = jscan::field(m, "public_port");
  if (public_ip.empty() || public_port.empty() || public_ip == "null" || public_port == "null")
    return refuse(s, c, "Missing required fields: public_ip, public_port");
  model& md = s.m;
  const user& u = md.users[c.user - 1];
  if (u.orgs.empty()) return refuse(s, c, "User not member of any organization");
  const auto wanted = jscan::integer(jscan::field(m, "organization_id"));
  int org = -1;
  std::uint32_t ip = 0;
  for (int index : u.orgs) {
    if (wanted && md.orgs[index].id != *wanted) continue;
    auto it = md.allocations.find(model::key(index, c.user));
    if (it != md.allocations.end()) {
      org = index;
      ip = it->second;
      break;
    }
  }
  if (org < 0) return refuse(s, c, "No virtual IP allocated for user in any organization");
  organization& o = md.orgs[org];
  // Take-over: the newer registration of an address wins.
  if (auto it = o.by_ip.find(ip); it != o.by_ip.end()) {
    conn& old = *it->second;
    go_offline(s, old);
    s.queue_close(old, 4000);
  }
  const std::string_view agent_id = jscan::field(m, "agent_id");
  char hex[32];
  if (jscan::is_string(agent_id)) {
    c.peer_id = jscan::str(agent_id);
  } else {
    std::snprintf(hex, sizeof hex, "peer-%012llx", static_cast<unsigned long long>(++md.connections));
    c.peer_id = hex;
  }
  const std::string vip = ipv4_text(ip);
  c.peer_json.assign(R"({"peer_id":")")
      .append(c.peer_id)
      .append(R"(","user_id":)")
      .append(std::to_string(c.user))
      .append(R"(,"email":")")
      .append(u.email)
      .append(R"(","agent_id":)")
      .append(or_null(agent_id))
      .append(R"(,"public_ip":)")
      .append(public_ip)
      .append(R"(,"public_port":)")
      .append(public_port)
      .append(R"(,"relay_ip":)")
      .append(or_null(jscan::field(m, "relay_ip")))
      .append(R"(,"relay_port":)")
      .append(or_null(jscan::field(m, "relay_port")))
      .append(R"(,"virtual_ip":")")
      .append(vip)
      .append("\"}");
  std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(++md.connections));
  msg.assign(R"({"type":"register_agent_response","status":"registered","virtual_ip":")")
      .append(vip)
      .append(R"(","connection_id":"00000000-0000-4000-8000-)")
      .append(hex)
      .append(R"(","peer_id":")")
      .append(c.peer_id)
      .append(R"(","organization_id":)")
      .append(std::to_string(o.id))
      .append(R"(,"existing_peers":[)");
  bool first = true;
  for (const conn* other : o.online) {
    if (!first) msg.push_back(',');
    first = false;
    msg.append(other->peer_json);
  }
  msg.append("]}");
  s.queue_text(c, msg);
  msg.assign(R"({"type":"peer_online","peer":)").append(c.peer_json).append("}");
  broadcast.clear();
  wsf::append_frame(broadcast, wsf::text, msg, false);
  to_others(s, org, &c);
  c.registered = true;
  c.org = org;
  c.ip = ip;
  c.slot = static_cast<std::uint32_t>(o.online.size());
  o.online.push_back(&c);
  o.by_ip[ip] = &c;
}

void on_signal(server& s, conn& c, std::string_view m) {
  const std::string_view to = jscan::str(jscan::field(m, "to"));
  organization& o = s.m.orgs[c.org];
  conn* target = nullptr;
  std::uint32_t ip = 0;
  if (parse_ipv4(to, ip)) {
    if (auto it = o.by_ip.find(ip); it != o.by_ip.end()) target = it->second;
  } else {
    int matches = 0;
    for (conn* other : o.online) {
      if (other->peer_id == to) {
        target = other;
        ++matches;
      }
    }
    if (matches != 1) target = nullptr;
  }
  if (!target) return send_error(s, c, "Unknown peer");
  msg.assign(R"({"type":"signal","from":")")
      .append(c.peer_id)
      .append(R"(","from_virtual_ip":")")
      .append(ipv4_text(c.ip))
      .append(R"(","from_user_id":)")
      .append(std::to_string(c.user))
      .append(R"(,"data":)")
      .append(or_null(jscan::field(m, "data")))
      .append("}");
  s.queue_text(*target, msg);
}

void on_message(server& s, conn& c, std::string_view m) {
  std::string_view type;
  if (!jscan::each_member(m, [&](std::string_view k, std::string_view v) {
        if (k == "type") type = jscan::str(v);
        return true;
      })) {
    return c.registered ? send_error(s, c, "Invalid JSON") : refuse(s, c, "Invalid JSON");
  }
  if (!c.registered) {
    if (type != "register") return refuse(s, c, "First message must be register");
    return on_register(s, c, m);
  }
  if (type == "signal") return on_signal(s, c, m);
  if (type == "ping") return s.queue_text(c, R"({"type":"pong"})");
  if (type == "register") return send_error(s, c, "Already registered");
  send_error(s, c, "Unknown message type");
}

}  // namespace

void ws_upgrade(server& s, conn& c, const request& r) {
  msg.assign("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
      .append(websocket_accept(r.websocket_key))
      .append("\r\n\r\n");
  s.queue(c, msg);
  c.websocket = true;
  constexpr std::string_view bearer = "Bearer ";
  std::string_view token = query_token(r.query);
  if (token.empty() && r.authorization.substr(0, bearer.size()) == bearer)
    token = r.authorization.substr(bearer.size());
  if (token.empty()) return refuse(s, c, "No token provided");
  c.user = authenticate(s.m, token);
  if (!c.user) refuse(s, c, "Invalid token");
}

std::size_t ws_input(server& s, conn& c, char* data, std::size_t size) {
  wsf::frame f = wsf::parse(data, size, 64 * 1024);
  if (f.status == wsf::frame::incomplete) return 0;
  if (f.status == wsf::frame::bad) {
    s.queue_close(c, 1009);
    return size;
  }
  if (!f.fin || f.op == wsf::continuation) {
    s.queue_close(c, 1003);
    return size;
  }
  switch (f.op) {
    case wsf::text: on_message(s, c, f.payload); break;
    case wsf::ping: {
      std::string pong;
      wsf::append_frame(pong, wsf::pong, f.payload, false);
      s.queue(c, pong);
      break;
    }
    case wsf::close: {
      if (c.registered) go_offline(s, c);
      std::uint16_t code = 1000;
      if (f.payload.size() >= 2)
        code = static_cast<std::uint16_t>((static_cast<unsigned char>(f.payload[0]) << 8) |
                                          static_cast<unsigned char>(f.payload[1]));
      s.queue_close(c, code);
      break;
    }
    default: break;
  }
  return f.size;
}

void ws_gone(server& s, conn& c) {
  if (c.registered) go_offline(s, c);
}

}  // namespace ceiling
