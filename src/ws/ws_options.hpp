// Liveness, limits and back-pressure of WebSocket connections (PROTOCOL.md §5.5), configurable so
// that tests can use short intervals.
#pragma once

#include "ws/ice_servers.hpp"

#include <chrono>
#include <cstddef>

namespace sig::ws {

struct ws_options {
  std::chrono::milliseconds register_timeout{10'000};  // the first message must arrive by then
  std::chrono::milliseconds ping_interval{20'000};     // server pings
  std::chrono::milliseconds idle_timeout{60'000};      // no inbound frame for this long: close
  std::chrono::milliseconds send_timeout{10'000};      // one frame may take this long to send
  std::chrono::milliseconds close_timeout{5'000};      // closing handshake
  std::size_t message_max = 64 * 1024;                 // larger messages: close 1009
  std::size_t queue_limit = 1024 * 1024;               // outbound bytes queued: beyond, close 1013
  double rate_per_second = 50;                         // sustained messages per second ...
  double rate_burst = 100;                             // ... after a burst of this many
  ice_options ice;                                     // ICE servers offered at registration
};

}  // namespace sig::ws
