// The seam between this process's hub and the other server processes (PROTOCOL.md §7): the hub
// publishes every presence change made here; whoever carries them to the other processes calls
// hub::apply_remote there. A single process has no one to tell (local_bus); a cluster sends them
// through PostgreSQL (cluster/).
#pragma once

#include "signaling/peer.hpp"

#include <string>

namespace sig::signaling {

struct presence_event {
  enum class kind : std::uint8_t { online, offline, update, signal };
  /// offline: why. The process holding the connection closes it with the matching code.
  enum class cause : std::uint8_t {
    left,      // closed, timed out, too slow: the connection is gone already
    replaced,  // a later registration took the address
    removed,   // its membership or its address was removed through the REST API
    lost,      // its server process stopped heartbeating and was declared dead
  };
  kind what = kind::online;
  cause why = cause::left;
  /// online, update: the registration's new state. offline: at least its organization, virtual
  /// IP and epoch (receivers know the rest). signal: the sender.
  peer_info peer;
  domain::ipv4 target = 0;                // signal: the receiver's virtual IP ...
  domain::process_id target_process = 0;  // ... and the process that holds its connection
  std::string payload;                    // signal: the message for the receiver, serialized
};

class presence_bus {
 public:
  virtual ~presence_bus() = default;
  /// Tells the other processes about a change made on this one. Must not block: it is called
  /// with an organization's lock held.
  virtual void publish(const presence_event& event) = 0;
};

/// A single process: nothing to publish to.
class local_bus final : public presence_bus {
 public:
  void publish(const presence_event&) override {}
};

}  // namespace sig::signaling
