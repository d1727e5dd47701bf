// Failure-to-WebSocket mapping; see close_codes.hpp.
#include "ws/close_codes.hpp"

#include "signaling/messages.hpp"

namespace sig::ws {

namespace websocket = boost::beast::websocket;

close_cause close_cause_of(signaling::close_reason reason) noexcept {
  switch (reason) {
    case signaling::close_reason::replaced: return {static_cast<websocket::close_code>(close_replaced), "replaced"};
    case signaling::close_reason::removed: return {static_cast<websocket::close_code>(close_removed), "removed"};
    case signaling::close_reason::slow_consumer: return {websocket::close_code::try_again_later, "slow consumer"};
    case signaling::close_reason::shutting_down: return {websocket::close_code::going_away, "server shutting down"};
    case signaling::close_reason::presence_lost: return {websocket::close_code::service_restart, "presence lost"};
  }
  return {websocket::close_code::internal_error, "internal error"};
}

std::string_view registration_error(errc code, bool organization_named) noexcept {
  namespace protocol = signaling::errors;
  switch (code) {
    case errc::not_a_member: return organization_named ? protocol::not_member_of_organization : protocol::not_member;
    case errc::address_not_found:
      return organization_named ? protocol::no_address_in_organization : protocol::no_address;
    default: return protocol::registration_failed;
  }
}

}  // namespace sig::ws
