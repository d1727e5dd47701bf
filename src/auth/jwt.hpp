// Strict HS256 JSON Web Tokens (RFC 7519): one algorithm, constant-time signature check, `exp`
// required, `nbf` honoured, `sub` a user id. Pure CPU work, cheap enough for an I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace sig::auth {

struct token_claims {
  std::int64_t user_id = 0;
  std::int64_t issued_at = 0;   // seconds since the epoch
  std::int64_t expires_at = 0;  // seconds since the epoch
  std::string jti;
};

enum class token_error {
  malformed,      // not three base64url parts of JSON objects
  bad_algorithm,  // header alg is not HS256 (including "none"), or a critical extension
  bad_signature,
  expired,
  not_yet_valid,
  bad_claims,  // sub missing or not a user id, exp missing or not a number
};

std::string_view to_string(token_error e) noexcept;

class jwt_codec {
 public:
  /// The secret is used as raw bytes, as PyJWT does with a str key.
  jwt_codec(std::string secret, std::chrono::seconds lifetime);

  std::chrono::seconds lifetime() const noexcept { return lifetime_; }

  /// A token for `user_id`, issued at `now` (seconds since the epoch).
  std::string issue(std::int64_t user_id, std::int64_t now) const;
  std::expected<token_claims, token_error> verify(std::string_view token, std::int64_t now) const;

 private:
  std::string sign(std::string_view signing_input) const;

  std::string secret_;
  std::chrono::seconds lifetime_;
};

}  // namespace sig::auth
