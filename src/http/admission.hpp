// Which connections the server takes on, decided right after accept, before anything is read:
// at most so many open connections per client address, and so many connections still in their
// handshake (TLS, and the first request) across the server, so that one address, or a crowd of
// clients that connect and never speak, cannot take every file descriptor. Trusted proxies (a
// load balancer in front of the cluster) are not limited per address: every client comes
// through them.
#pragma once

#include "http/beast.hpp"
#include "runtime/connection_registry.hpp"
#include "runtime/keyed_slots.hpp"
#include "telemetry/metrics.hpp"

#include <boost/asio/ip/address.hpp>

#include <expected>
#include <optional>
#include <string_view>
#include <vector>

namespace sig::http {

struct admission_limits {
  std::size_t connections_per_address = 512;       // MAX_CONNECTIONS_PER_ADDRESS; 0: no limit
  std::size_t pending_handshakes = 1024;           // MAX_PENDING_HANDSHAKES; 0: no limit
  std::vector<asio::ip::address> trusted_proxies;  // TRUSTED_PROXIES
};

/// What an admitted connection holds while it lives, in its HTTP session and then in the WebSocket
/// session that takes it over; the handshake slot goes back as soon as the first request has
/// arrived.
struct connection_pass {
  std::optional<runtime::keyed_slots::slot> address;
  std::optional<runtime::keyed_slots::slot> handshake;
  std::optional<runtime::connection_registry::entry> registered;  // counted for the graceful shutdown
  telemetry::counted_connection counted;                          // signaling_open_connections
};

class connection_admission {
 public:
  explicit connection_admission(admission_limits limits);

  /// A pass, or the reason for refusing the connection (answered 503 and closed).
  std::expected<connection_pass, std::string_view> admit(const asio::ip::address& peer);
  bool is_trusted_proxy(const asio::ip::address& peer) const;

 private:
  admission_limits limits_;
  runtime::keyed_slots per_address_;
  runtime::keyed_slots handshakes_;
};

}  // namespace sig::http
