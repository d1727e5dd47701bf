// What the hub needs of a live agent connection. Implemented by the WebSocket session; fakes in
// tests. Both calls are thread-safe and never block: they hand work to the connection's own
// executor.
#pragma once

#include "signaling/messages.hpp"

#include <cstdint>
#include <string_view>

namespace sig::signaling {

/// Why the hub ends a connection; each maps to a WebSocket close code.
enum class close_reason : std::uint8_t {
  replaced,       // 4000: a newer connection registered the same virtual IP
  removed,        // 4001: its membership or its address was removed through the REST API
  slow_consumer,  // 1013: its outbound queue overflowed
  shutting_down,  // 1001: the server is stopping
  presence_lost,  // 1012: the cluster lost this registration (its process was declared dead, or
                  // its row vanished while this process could not listen): reconnect
};

class peer_connection {
 public:
  virtual ~peer_connection() = default;
  /// Queues a message for this connection, after everything queued before it.
  virtual void deliver(shared_message message) = 0;
  /// Ends the connection. The hub has already taken it offline: its end must not be announced.
  virtual void disconnect(close_reason reason) = 0;
};

}  // namespace sig::signaling
