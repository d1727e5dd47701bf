// HS256 JWT issue and verification; see jwt.hpp.
#include "auth/jwt.hpp"

#include "core/json_parse.hpp"
#include "core/random.hpp"

#include <sodium.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>

namespace sig::auth {
namespace {

namespace json = boost::json;
constexpr int base64url = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

std::string encode(std::string_view bytes) {
  std::string text(sodium_base64_encoded_len(bytes.size(), base64url), '\0');
  sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    base64url);
  text.resize(text.find('\0'));
  return text;
}

std::optional<std::string> decode(std::string_view text) {
  std::string bytes(text.size(), '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(), text.size(), nullptr,
                        &length, &end, base64url) != 0 ||
      end != text.data() + text.size())
    return std::nullopt;
  bytes.resize(length);
  return bytes;
}

std::optional<json::object> decode_object(std::string_view part) {
  const auto bytes = decode(part);
  if (!bytes) return std::nullopt;
  auto parsed = parse_json(*bytes);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  return std::move(parsed->as_object());
}

// NumericDate: an integer or a finite number of seconds (RFC 7519 §2).
std::optional<std::int64_t> numeric_date(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= INT64_MAX) return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double() && std::isfinite(v.get_double()) && std::abs(v.get_double()) < 1e15)
    return static_cast<std::int64_t>(std::floor(v.get_double()));
  return std::nullopt;
}

std::optional<std::int64_t> user_id_of(const json::value* sub) {
  if (!sub || !sub->is_string()) return std::nullopt;
  const json::string& text = sub->get_string();
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id <= 0 || text.front() == '0') return std::nullopt;
  return id;
}

// RFC 7519 §4.1.3: "aud" is one string or an array of strings.
bool names_audience(const json::value* aud, std::string_view audience) {
  if (!aud) return false;
  if (aud->is_string()) return aud->get_string() == audience;
  if (!aud->is_array()) return false;
  const json::array& all = aud->get_array();
  return std::any_of(all.begin(), all.end(),
                     [&](const json::value& v) { return v.is_string() && v.get_string() == audience; });
}

}  // namespace

std::string_view to_string(token_error e) noexcept {
  switch (e) {
    case token_error::malformed: return "malformed token";
    case token_error::bad_algorithm: return "algorithm not allowed";
    case token_error::bad_signature: return "bad signature";
    case token_error::expired: return "token expired";
    case token_error::not_yet_valid: return "token not yet valid";
    case token_error::bad_claims: return "bad claims";
    case token_error::bad_issuer: return "wrong issuer";
    case token_error::bad_audience: return "wrong audience";
  }
  return "invalid token";
}

jwt_codec::jwt_codec(std::string_view secret, std::chrono::seconds lifetime, token_policy policy)
    : lifetime_(lifetime), policy_(std::move(policy)) {
  crypto_auth_hmacsha256_init(&keyed_, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
}

std::string jwt_codec::sign(std::string_view signing_input) const {
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state = keyed_;
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signing_input.data()),
                                signing_input.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

std::string jwt_codec::issue(std::int64_t user_id, std::string_view stamp, std::int64_t now) const {
  static const std::string header = encode(R"({"alg":"HS256","typ":"JWT"})");
  json::object claims{{"sub", std::to_string(user_id)},
                      {"stm", stamp},
                      {"iat", now},
                      {"exp", now + lifetime_.count()},
                      {"jti", random_hex(16)}};
  if (!policy_.issuer.empty()) claims["iss"] = policy_.issuer;
  if (!policy_.audience.empty()) claims["aud"] = policy_.audience;
  std::string token = header;
  token.push_back('.');
  token.append(encode(json::serialize(claims)));
  const std::string signature = encode(sign(token));
  token.push_back('.');
  token.append(signature);
  return token;
}

std::expected<token_claims, token_error> jwt_codec::verify(std::string_view token, std::int64_t now) const {
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot = token.find('.', first_dot + 1);
  if (first_dot == std::string_view::npos || second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos)
    return std::unexpected(token_error::malformed);

  const auto header = decode_object(token.substr(0, first_dot));
  if (!header) return std::unexpected(token_error::malformed);
  const json::value* alg = header->if_contains("alg");
  if (!alg || !alg->is_string() || alg->get_string() != "HS256" || header->contains("crit"))
    return std::unexpected(token_error::bad_algorithm);

  const auto signature = decode(token.substr(second_dot + 1));
  const std::string expected = sign(token.substr(0, second_dot));
  if (!signature || signature->size() != expected.size() ||
      sodium_memcmp(signature->data(), expected.data(), expected.size()) != 0)
    return std::unexpected(token_error::bad_signature);

  const auto payload = decode_object(token.substr(first_dot + 1, second_dot - first_dot - 1));
  if (!payload) return std::unexpected(token_error::malformed);

  token_claims claims;
  const json::value* exp = payload->if_contains("exp");
  const auto user_id = user_id_of(payload->if_contains("sub"));
  if (!exp || !user_id) return std::unexpected(token_error::bad_claims);
  const auto expires_at = numeric_date(*exp);
  if (!expires_at) return std::unexpected(token_error::bad_claims);
  if (expires_at.value() <= now) return std::unexpected(token_error::expired);
  if (const json::value* nbf = payload->if_contains("nbf")) {
    const auto not_before = numeric_date(*nbf);
    if (!not_before) return std::unexpected(token_error::bad_claims);
    if (*not_before > now) return std::unexpected(token_error::not_yet_valid);
  }
  if (const json::value* iat = payload->if_contains("iat")) {
    const auto issued_at = numeric_date(*iat);
    if (!issued_at) return std::unexpected(token_error::bad_claims);
    claims.issued_at = *issued_at;
  }
  if (const json::value* jti = payload->if_contains("jti"); jti && jti->is_string())
    claims.jti = std::string(jti->get_string());
  if (const json::value* stamp = payload->if_contains("stm")) {
    if (!stamp->is_string()) return std::unexpected(token_error::bad_claims);
    claims.stamp = std::string(stamp->get_string());
  }
  if (!policy_.issuer.empty()) {
    const json::value* iss = payload->if_contains("iss");
    if (!iss || !iss->is_string() || iss->get_string() != policy_.issuer)
      return std::unexpected(token_error::bad_issuer);
  }
  if (!policy_.audience.empty() && !names_audience(payload->if_contains("aud"), policy_.audience))
    return std::unexpected(token_error::bad_audience);
  claims.user_id = *user_id;
  claims.expires_at = expires_at.value();
  return claims;
}

}  // namespace sig::auth
