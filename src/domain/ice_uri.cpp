// STUN and TURN URIs; see ice_uri.hpp.
#include "domain/ice_uri.hpp"

#include <algorithm>
#include <cctype>

namespace sig::domain {
namespace {

bool is_name_char(char c) noexcept {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

bool is_ipv6_char(char c) noexcept { return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.'; }

bool is_port(std::string_view text) noexcept {
  if (text.empty() || text.size() > 5 || !std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  int port = 0;
  for (const char c : text) port = port * 10 + (c - '0');
  return port >= 1 && port <= 65535;
}

// What follows the scheme: host [":" port].
bool is_host_and_port(std::string_view rest) noexcept {
  std::string_view host = rest;
  std::string_view port;
  bool has_port = false;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(1, close - 1);
    if (host.empty() || !std::ranges::all_of(host, is_ipv6_char)) return false;
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      has_port = true;
    }
  } else {
    if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      has_port = true;
    }
    if (host.empty() || !std::ranges::all_of(host, is_name_char)) return false;
  }
  return !has_port || is_port(port);
}

}  // namespace

bool is_valid_ice_uri(std::string_view uri, ice_server_kind kind) noexcept {
  const std::string_view plain = kind == ice_server_kind::stun ? "stun:" : "turn:";
  const std::string_view secure = kind == ice_server_kind::stun ? "stuns:" : "turns:";
  std::string_view rest;
  if (uri.starts_with(plain))
    rest = uri.substr(plain.size());
  else if (uri.starts_with(secure))
    rest = uri.substr(secure.size());
  else
    return false;
  if (kind == ice_server_kind::turn) {
    if (const auto query = rest.find('?'); query != std::string_view::npos) {
      const std::string_view transport = rest.substr(query);
      if (transport != "?transport=udp" && transport != "?transport=tcp") return false;
      rest = rest.substr(0, query);
    }
  }
  return is_host_and_port(rest);
}

}  // namespace sig::domain
