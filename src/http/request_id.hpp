// The id of a request (X-Request-Id): the client's own when it is a sane token, else a new one. It
// is echoed on the response and names the request in the access log, so that a client, a proxy
// and the server's log can talk about the same request.
#pragma once

#include <string>
#include <string_view>

namespace sig::http {

/// Longest X-Request-Id honoured; a longer one is replaced.
inline constexpr std::size_t max_request_id_size = 128;

/// `header`, when it is 1 to max_request_id_size printable ASCII characters (0x21 to 0x7E: no
/// space, no control character, nothing a log line could be split or forged with); otherwise 16
/// random bytes in hex.
std::string request_id_of(std::string_view header);

}  // namespace sig::http
