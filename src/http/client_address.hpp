// The address a request comes from, for throttling: the TCP peer, or, when the peer is a
// trusted proxy, the address that proxy appended last to X-Forwarded-For (the only entry it
// vouches for: earlier ones are whatever the client sent).
#pragma once

#include "http/admission.hpp"

#include <string>
#include <string_view>

namespace sig::http {

std::string client_address(const asio::ip::address& peer, std::string_view forwarded_for,
                           const connection_admission* admission);

}  // namespace sig::http
