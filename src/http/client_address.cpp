// The client address of a request; see client_address.hpp.
#include "http/client_address.hpp"

namespace sig::http {

std::string client_address(const asio::ip::address& peer, std::string_view forwarded_for,
                           const connection_admission* admission) {
  if (!admission || forwarded_for.empty() || !admission->is_trusted_proxy(peer)) return peer.to_string();
  std::string_view last = forwarded_for.substr(forwarded_for.rfind(',') + 1);
  while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
  while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
  boost::system::error_code ec;
  const auto parsed = asio::ip::make_address(std::string(last), ec);
  return ec ? peer.to_string() : parsed.to_string();
}

}  // namespace sig::http
