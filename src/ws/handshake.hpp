// The WebSocket opening handshake's refusals (RFC 6455 §4.2.1, §4.4), answered like every other
// HTTP error of the server: {"detail": "..."} as application/json. Checked before Beast accepts, so
// that the status and wording are ours and a malformed Sec-WebSocket-Key, which Beast lets through,
// is refused too.
#pragma once

#include "http/beast.hpp"
#include "http/request_handler.hpp"

#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <optional>
#include <string_view>

namespace sig::ws {
namespace handshake_detail {

namespace bhttp = boost::beast::http;

// RFC 6455 §4.1: the key is 16 random bytes in base64: 22 characters of the alphabet and "==".
inline bool is_valid_key(std::string_view key) {
  constexpr std::size_t encoded_size = 24;
  if (key.size() != encoded_size || !key.ends_with("==")) return false;
  return std::all_of(key.begin(), key.end() - 2, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  });
}

inline bool lists_token(const http::request& req, bhttp::field field, std::string_view token) {
  return bhttp::token_list{req[field]}.exists(token);
}

}  // namespace handshake_detail

/// The answer to an upgrade request that cannot be accepted; nullopt when it can: GET, HTTP/1.1,
/// Host, "Connection: Upgrade", "Upgrade: websocket", a Sec-WebSocket-Key of 16 bytes in base64 and
/// Sec-WebSocket-Version 13.
inline std::optional<http::response> handshake_refusal(const http::request& upgrade) {
  namespace bhttp = boost::beast::http;
  using handshake_detail::is_valid_key;
  using handshake_detail::lists_token;
  const unsigned version = upgrade.version() < 11 ? 11 : upgrade.version();
  if (upgrade.method() != bhttp::verb::get) {
    auto res = http::plain_error(bhttp::status::method_not_allowed, "Method Not Allowed", version);
    res.set(bhttp::field::allow, "GET");
    return res;
  }
  if (upgrade.version() < 11)
    return http::plain_error(bhttp::status::bad_request, "WebSocket upgrade requires HTTP/1.1", version);
  if (!lists_token(upgrade, bhttp::field::connection, "upgrade") ||
      !lists_token(upgrade, bhttp::field::upgrade, "websocket")) {
    // RFC 9110 §15.5.22: a 426 names the protocol to upgrade to.
    auto res = http::plain_error(bhttp::status::upgrade_required, "WebSocket upgrade required", version);
    res.set(bhttp::field::upgrade, "websocket");
    res.set(bhttp::field::connection, "Upgrade, close");
    return res;
  }
  if (upgrade.find(bhttp::field::host) == upgrade.end())
    return http::plain_error(bhttp::status::bad_request, "Missing Host header", version);
  const auto key = upgrade.find(bhttp::field::sec_websocket_key);
  if (key == upgrade.end())
    return http::plain_error(bhttp::status::bad_request, "Missing Sec-WebSocket-Key header", version);
  if (!is_valid_key(key->value()))
    return http::plain_error(bhttp::status::bad_request, "Invalid Sec-WebSocket-Key header", version);
  if (upgrade[bhttp::field::sec_websocket_version] != "13") {
    // RFC 6455 §4.4: the versions this server speaks.
    auto res = http::plain_error(bhttp::status::upgrade_required, "Unsupported WebSocket version (use 13)", version);
    res.set(bhttp::field::sec_websocket_version, "13");
    return res;
  }
  return std::nullopt;
}

/// Rewrites a refusal Beast built itself (a plain-text body) into {"detail": <that text>}; the
/// safety net behind handshake_refusal, for checks Beast may add.
inline void as_json_refusal(boost::beast::websocket::response_type& res) {
  namespace bhttp = boost::beast::http;
  res.set(bhttp::field::content_type, "application/json");
  res.body() = boost::json::serialize(boost::json::object{{"detail", res.body()}});
  res.keep_alive(false);
  res.prepare_payload();
}

}  // namespace sig::ws
