// Connection admission; see admission.hpp.
#include "http/admission.hpp"

#include <algorithm>

namespace sig::http {

connection_admission::connection_admission(admission_limits limits)
    : limits_(std::move(limits)),
      per_address_(limits_.connections_per_address),
      handshakes_(limits_.pending_handshakes) {}

bool connection_admission::is_trusted_proxy(const asio::ip::address& peer) const {
  return std::find(limits_.trusted_proxies.begin(), limits_.trusted_proxies.end(), peer) !=
         limits_.trusted_proxies.end();
}

std::expected<connection_pass, std::string_view> connection_admission::admit(const asio::ip::address& peer) {
  connection_pass pass;
  if (!is_trusted_proxy(peer)) {
    pass.address = per_address_.try_take(peer.to_string());
    if (!pass.address) return std::unexpected("Too many connections from this address");
  }
  pass.handshake = handshakes_.try_take("");
  if (!pass.handshake) return std::unexpected("Too many connections in progress, retry later");
  return pass;
}

}  // namespace sig::http
