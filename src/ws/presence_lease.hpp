// A session's registration in the hub, held like a resource: whatever ends the session (the peer
// closing, a deadline, an exception thrown while handling a message or inside hub::join itself, the
// coroutine destroyed unfinished at shutdown), the registration goes offline, and only once. The
// session never calls hub::leave itself; it ends its lease.
#pragma once

#include "signaling/hub.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <optional>
#include <utility>

namespace sig::ws {

class presence_lease {
 public:
  explicit presence_lease(signaling::hub& hub) noexcept : hub_(hub) {}
  presence_lease(const presence_lease&) = delete;
  presence_lease& operator=(const presence_lease&) = delete;
  ~presence_lease() { end(); }

  /// Call right before hub::join. If join throws after putting the peer online (the bus failed,
  /// memory ran out), its epoch never reached the session; its connection id, new for every
  /// registration, still finds it.
  void joining(const signaling::peer_info& peer) { joining_ = peer; }

  /// The hub took the registration online with this epoch (a refused join holds nothing: call
  /// joined(nullopt)).
  void joined(const std::optional<signaling::peer_info>& peer) {
    joining_.reset();
    held_ = peer;
  }

  /// Takes the registration offline now (idle timeout, slow consumer, end of the session); later
  /// calls do nothing. A registration the hub ended already (replaced, removed) stays as it is:
  /// hub::leave only removes the current one.
  void end() noexcept {
    auto held = std::exchange(held_, std::nullopt);
    auto joining = std::exchange(joining_, std::nullopt);
    try {
      if (held) hub_.leave(*held);
      if (joining) leave_by_connection(*joining);
    } catch (const std::exception& e) {
      // Only the bus can fail here, after the hub took the peer offline locally.
      spdlog::error("websocket session: announcing the end of its registration failed: {}", e.what());
    }
  }

  /// Ends the lease when it goes out of scope: for the coroutine that runs the session.
  class [[nodiscard]] end_on_exit {
   public:
    explicit end_on_exit(presence_lease& lease) noexcept : lease_(lease) {}
    end_on_exit(const end_on_exit&) = delete;
    end_on_exit& operator=(const end_on_exit&) = delete;
    ~end_on_exit() { lease_.end(); }

   private:
    presence_lease& lease_;
  };

 private:
  void leave_by_connection(const signaling::peer_info& joining) {
    for (const signaling::peer_info& peer : hub_.local_peers(joining.organization_id))
      if (peer.connection_id == joining.connection_id) hub_.leave(peer);
  }

  signaling::hub& hub_;
  std::optional<signaling::peer_info> held_;
  std::optional<signaling::peer_info> joining_;
};

}  // namespace sig::ws
