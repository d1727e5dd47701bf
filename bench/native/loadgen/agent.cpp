#include "agent.hpp"

#include "../common/json_scan.hpp"
#include "../common/ws_frame.hpp"

namespace loadgen {

namespace {

std::string frame_scratch;  // one thread: frames are built here, then handed to the socket

std::string agent_name(int index) { return "a" + std::to_string(index); }

}  // namespace

agent::agent(context& ctx, int index, std::string token, std::int64_t org, agent_events& events)
    : stream(ctx.io),
      index(index),
      agent_id(agent_name(index)),
      process(ctx.process_for(index)),
      ctx_(ctx),
      token_(std::move(token)),
      org_(org),
      events_(events) {}

void agent::start() {
  st = state::connecting;
  t_start = clock_type::now();
  registered = false;
  left = false;
  known = 0;
  close_code = 0;
  heard.clear();
  offline_heard = 0;
  connect(ctx_.processes[static_cast<std::size_t>(process)], ctx_.source_for(static_cast<std::size_t>(index)));
}

void agent::on_connected(const error_code& ec) {
  if (ec) {
    ++errors;
    end(state::failed);
    return;
  }
  st = state::upgrading;
  frame_scratch.clear();
  frame_scratch.append("GET /ws?token=")
      .append(token_)
      .append(
          " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  send(frame_scratch);
}

void agent::send_register() {
  std::string msg;
  msg.reserve(128);
  msg.append(R"({"type":"register","agent_id":")").append(agent_id);
  msg.append(R"(","public_ip":"198.51.100.)").append(std::to_string(index % 250 + 1));
  msg.append(R"(","public_port":)").append(std::to_string(40000 + index % 20000));
  if (org_) msg.append(R"(,"organization_id":)").append(std::to_string(org_));
  msg.append("}");
  t_register = clock_type::now();
  send_text(msg);
}

void agent::send_text(std::string_view text) { send_frame(wsf::text, text); }

void agent::send_frame(std::uint8_t op, std::string_view payload) {
  frame_scratch.clear();
  wsf::append_frame(frame_scratch, op, payload, true);
  send(frame_scratch);
}

void agent::leave() {
  if (st != state::open) return;
  st = state::closing;
  left = true;
  send_frame(wsf::close, wsf::close_payload(1000));
}

std::size_t agent::on_data(char* data, std::size_t size, clock_type::time_point now) {
  std::size_t used = 0;
  if (st == state::upgrading) {
    std::string_view in(data, size);
    std::size_t end_of_head = in.find("\r\n\r\n");
    if (end_of_head == std::string_view::npos) return 0;
    if (in.substr(0, 12) != "HTTP/1.1 101") {
      ++errors;
      events_.on_error(*this, in.substr(0, in.find("\r\n")));
      end(state::failed);
      return size;
    }
    used = end_of_head + 4;
    st = state::open;
    events_.on_open(*this, now);
    if (!is_open()) return size;
  }
  while (used < size) {
    wsf::frame f = wsf::parse(data + used, size - used);
    if (f.status == wsf::frame::incomplete) break;
    if (f.status == wsf::frame::bad) {
      ++errors;
      events_.on_error(*this, "bad frame");
      end(state::failed);
      return size;
    }
    used += f.size;
    switch (f.op) {
      case wsf::text:
      case wsf::continuation:
        if (f.fin && fragments_.empty()) {
          on_text(f.payload, now);
        } else {
          fragments_.append(f.payload);
          if (f.fin) {
            std::string msg = std::move(fragments_);
            fragments_.clear();
            on_text(msg, now);
          }
        }
        break;
      case wsf::ping: send_frame(wsf::pong, f.payload); break;
      case wsf::close:
        if (f.payload.size() >= 2)
          close_code = (static_cast<unsigned char>(f.payload[0]) << 8) | static_cast<unsigned char>(f.payload[1]);
        if (st != state::closing) send_frame(wsf::close, f.payload.substr(0, 2));
        end(state::closed);
        return size;
      default: break;
    }
    if (!is_open()) return size;
  }
  return used;
}

void agent::on_text(std::string_view msg, clock_type::time_point now) {
  ++frames;
  const std::string_view type = jscan::str(jscan::field(msg, "type"));
  if (ctx_.spread()) {
    auto it = ctx_.received_by_type.find(type);
    if (it == ctx_.received_by_type.end()) it = ctx_.received_by_type.emplace(std::string(type), 0).first;
    ++it->second;
  }
  if (type == "peer_online") {
    ++known;
    if (ctx_.spread()) note_peer(jscan::field(msg, "peer"));
    events_.on_peer_online(*this, msg, now);
  } else if (type == "peer_offline") {
    --known;
    if (ctx_.spread()) ++offline_heard;
    events_.on_peer_offline(*this, msg, now);
  } else if (type == "signal") {
    events_.on_signal(*this, msg, now);
  } else if (type == "register_agent_response") {
    registered = true;
    virtual_ip = jscan::str(jscan::field(msg, "virtual_ip"));
    const std::string_view peers = jscan::field(msg, "existing_peers");
    const std::size_t existing =
        ctx_.spread() ? jscan::each_element(peers, [&](std::string_view p) { note_peer(p); }) : jscan::count(peers);
    if (existing == jscan::npos) {
      ++errors;
      events_.on_error(*this, msg);
    } else {
      known += static_cast<int>(existing);
    }
    events_.on_registered(*this, now);
  } else if (type == "peer_update") {
    events_.on_peer_update(*this, msg);
  } else if (type != "pong" && type != "ice_servers") {
    ++errors;
    events_.on_error(*this, msg);
  }
}

void agent::note_peer(std::string_view peer_object) {
  const std::string_view id = jscan::str(jscan::field(peer_object, "agent_id"));
  const auto k = id.size() > 1 && id[0] == 'a' ? jscan::integer(id.substr(1)) : std::nullopt;
  heard.push_back(k && *k >= 0 && *k < 1'000'000'000 ? static_cast<int>(*k) : -1);
}

void agent::on_closed(const error_code&) {
  if (st == state::closing) {
    end(state::closed);
    return;
  }
  ++errors;  // the server dropped the connection without a close frame
  events_.on_error(*this, "connection dropped");
  end(state::failed);
}

void agent::end(state final_state) {
  close();
  st = final_state;
  events_.on_closed(*this);
}

}  // namespace loadgen
