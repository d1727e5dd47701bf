// The one mapping from the hub's and the store's failures to what a WebSocket client sees: the
// {"error"} string and the close code (PROTOCOL.md §5).
#pragma once

#include "core/error.hpp"
#include "signaling/peer_connection.hpp"

#include <boost/beast/websocket/rfc6455.hpp>

#include <string_view>

namespace sig::ws {

/// Close codes of the application range used by this server.
inline constexpr std::uint16_t close_replaced = 4000;
inline constexpr std::uint16_t close_removed = 4001;

struct close_cause {
  boost::beast::websocket::close_code code;
  std::string_view reason;
};

close_cause close_cause_of(signaling::close_reason reason) noexcept;

/// The error string for a failed registration lookup (errc::not_a_member, address_not_found;
/// anything else is "Registration failed"). `organization_named`: the register message carried an
/// organization_id.
std::string_view registration_error(errc code, bool organization_named) noexcept;

}  // namespace sig::ws
