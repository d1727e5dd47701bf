// One signaling agent: a WebSocket client that connects to /ws with its token, registers, and
// keeps count of the peers it has been told about.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "context.hpp"

namespace loadgen {

class agent;

// What a scenario wants to hear about. Messages are only valid during the call.
struct agent_events {
  virtual ~agent_events() = default;
  virtual void on_open(agent&, clock_type::time_point) {}
  virtual void on_registered(agent&, clock_type::time_point) {}
  virtual void on_peer_online(agent&, std::string_view /*msg*/, clock_type::time_point) {}
  virtual void on_peer_offline(agent&, std::string_view /*msg*/, clock_type::time_point) {}
  virtual void on_signal(agent&, std::string_view /*msg*/, clock_type::time_point) {}
  virtual void on_peer_update(agent&, std::string_view /*msg*/) {}
  virtual void on_error(agent&, std::string_view /*msg*/) {}
  // The connection ended (closed by either side, or failed to open).
  virtual void on_closed(agent&) {}
};

class agent final : public stream {
 public:
  enum class state { idle, connecting, upgrading, open, closing, closed, failed };

  // `org`: the organization to register in (0: let the server choose, as the seed's agents do).
  agent(context& ctx, int index, std::string token, std::int64_t org, agent_events& events);

  // Connects and upgrades; on_open follows (or on_closed).
  void start();
  // Sends `register` as agent "a<index>"; remembers when.
  void send_register();
  void send_text(std::string_view text);
  // Starts the close handshake (1000).
  void leave();

  const int index;
  const std::string agent_id;
  int process;             // index into ctx.processes of the server to connect to (default: round-robin)
  std::string virtual_ip;  // from register_agent_response
  state st = state::idle;
  bool registered = false;
  bool left = false;  // we started the close handshake
  int known = 0;      // peers known: existing_peers + peer_online - peer_offline
  std::int64_t frames = 0;
  int errors = 0;                       // {"error": ...} messages and failed upgrades or connects
  int close_code = 0;                   // the server's close code, if it closed
  clock_type::time_point t_start{};     // start() was called
  clock_type::time_point t_register{};  // register was sent
  // With ctx.spread() only: the agent index of every peer announced to this agent (existing_peers,
  // then each peer_online, in order; -1 for an agent_id not of the form a<index>) and the number
  // of peer_offline received. crowd::check_peers compares them with what was expected.
  std::vector<int> heard;
  int offline_heard = 0;

 private:
  void on_connected(const error_code& ec) override;
  std::size_t on_data(char* data, std::size_t size, clock_type::time_point now) override;
  void on_closed(const error_code& ec) override;
  void on_text(std::string_view msg, clock_type::time_point now);
  void send_frame(std::uint8_t op, std::string_view payload);
  void end(state final_state);
  void note_peer(std::string_view peer_object);

  context& ctx_;
  std::string token_;
  std::int64_t org_;
  agent_events& events_;
  std::string fragments_;  // a fragmented message being reassembled (rare)
};

}  // namespace loadgen
