// The seam between this process's hub and the other server processes (PROTOCOL.md §7): the hub
// publishes every presence change made here, and applies the changes other processes made. The
// in-process implementation has no one to tell; a PostgreSQL LISTEN/NOTIFY bus plugs in here.
#pragma once

#include "signaling/peer.hpp"

#include <functional>
#include <string>

namespace sig::signaling {

struct presence_event {
  enum class kind : std::uint8_t { online, offline, update, signal };
  /// offline: why. A process that holds the connection of a replaced or removed peer closes it.
  enum class cause : std::uint8_t { left, replaced, removed };
  kind what = kind::online;
  cause why = cause::left;
  peer_info peer;           // online, update: the new state; offline: the peer that left;
                            // signal: the sender
  domain::ipv4 target = 0;  // signal: the receiver's virtual IP
  std::string payload;      // signal: the message for the receiver, serialized
};

class presence_bus {
 public:
  using listener = std::function<void(const presence_event&)>;
  virtual ~presence_bus() = default;
  /// Tells the other processes about a change made on this one. Must not block.
  virtual void publish(const presence_event& event) = 0;
  /// Where events of other processes go; set once, before any event arrives.
  virtual void listen(listener on_remote_event) = 0;
};

/// A single process: nothing to publish to, nothing arrives.
class local_bus final : public presence_bus {
 public:
  void publish(const presence_event&) override {}
  void listen(listener) override {}
};

}  // namespace sig::signaling
