// The STUN and TURN server URIs handed to agents as ICE servers (STUN_URLS, TURN_URLS): checked
// once at start-up, so that an agent never receives one that its WebRTC stack would reject.
#pragma once

#include <string_view>

namespace sig::domain {

enum class ice_server_kind { stun, turn };

/// RFC 7064 for stun: ("stun:" or "stuns:" host [":" port]), RFC 7065 for turn: ("turn:" or
/// "turns:" host [":" port] ["?transport=udp" or "?transport=tcp"]). The host is a DNS name, an
/// IPv4 address or a bracketed IPv6 address; the port 1-65535. Schemes in lower case.
bool is_valid_ice_uri(std::string_view uri, ice_server_kind kind) noexcept;

}  // namespace sig::domain
