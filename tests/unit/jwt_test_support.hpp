// Helpers for the JWT tests: base64url and HMAC-SHA256 done independently of auth/jwt.cpp, so that
// tests can build any token (other algorithms, odd claims, duplicate keys) with a valid signature.
#pragma once

#include <sodium.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace jwt_test {

inline std::string b64url(std::string_view bytes) {
  constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string text(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    variant);
  text.resize(text.find('\0'));
  return text;
}

inline std::string b64url_decode(std::string_view text) {
  std::string bytes(text.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(), text.size(), nullptr,
                        &length, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return "<undecodable>";
  bytes.resize(length);
  return bytes;
}

inline std::string hs256(std::string_view key, std::string_view data) {
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

/// "<header>.<payload>" with both parts already encoded, plus a valid HS256 signature over it.
inline std::string sign_encoded(std::string_view encoded_header, std::string_view encoded_payload,
                                std::string_view key) {
  std::string token = std::string(encoded_header) + "." + std::string(encoded_payload);
  const std::string signature = b64url(hs256(key, token));
  return token + "." + signature;
}

/// A token with the given JSON header and payload and a valid HS256 signature under `key`,
/// whatever the header claims.
inline std::string sign_json(std::string_view header_json, std::string_view payload_json, std::string_view key) {
  return sign_encoded(b64url(header_json), b64url(payload_json), key);
}

inline std::vector<std::string> split(std::string_view token) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t dot = token.find('.', start);
    parts.emplace_back(token.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

}  // namespace jwt_test
