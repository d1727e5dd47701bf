// Default messages of the error kinds; they are part of the contract (PROTOCOL.md §1-4).
#include "core/error.hpp"

namespace sig {

std::string_view default_detail(errc code) noexcept {
  switch (code) {
    case errc::validation_failed: return "Validation error";
    case errc::malformed_request: return "Bad request";
    case errc::not_authenticated: return "Not authenticated";
    case errc::invalid_token: return "Could not validate credentials";
    case errc::bad_credentials: return "Incorrect email or password";
    case errc::forbidden: return "Not allowed";
    case errc::not_a_member: return "You are not a member of this organization";
    case errc::invite_required: return "This organization requires an invite code";
    case errc::invite_invalid: return "Invalid, expired or used-up invite code";
    case errc::not_found: return "Not Found";
    case errc::organization_not_found: return "Organization not found";
    case errc::member_not_found: return "Member not found";
    case errc::address_not_found: return "Virtual IP not allocated";
    case errc::email_taken: return "Email already registered";
    case errc::already_member: return "Already a member of this organization";
    case errc::owner_cannot_leave: return "The owner cannot leave the organization";
    case errc::owner_role_fixed: return "The owner's role cannot be changed";
    case errc::subnet_full: return "No free IP address in subnet";
    case errc::address_taken: return "Virtual IP already allocated";
    case errc::device_has_address: return "This device already holds another virtual IP";
    case errc::address_quota_exceeded: return "Address quota exceeded";
    case errc::peer_online: return "Peer is online";
    case errc::payload_too_large: return "Request body too large";
    case errc::unsupported_media_type: return "Content-Type must be application/json";
    case errc::rate_limited: return "Rate limit exceeded";
    case errc::overloaded: return "Server busy, retry later";
    case errc::internal: return "Internal server error";
  }
  return "Internal server error";
}

}  // namespace sig
