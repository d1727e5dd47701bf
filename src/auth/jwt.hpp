// Strict HS256 JSON Web Tokens (RFC 7519): one algorithm, constant-time signature check, `exp`
// required, `nbf` honoured, `sub` a user id, `stm` the user's token stamp (what ties a token to one
// user for good: see service/accounts.hpp), `iss` and `aud` checked when configured. Pure CPU
// work, cheap enough for an I/O thread.
#pragma once

#include <sodium/crypto_auth_hmacsha256.h>

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace sig::auth {

/// Signing keys shorter than this are refused at start (RFC 7518 §3.2: at least the hash size).
inline constexpr std::size_t min_secret_bytes = 32;

struct token_claims {
  std::int64_t user_id = 0;
  std::string stamp;            // empty when the token carries none (never valid for a user)
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
  bad_claims,    // sub missing or not a user id, exp missing or not a number, stm not a string
  bad_issuer,    // iss configured and the token's differs
  bad_audience,  // aud configured and the token's does not name it
};

/// Optional `iss` and `aud`: when set, issued tokens carry them and verified tokens must match.
struct token_policy {
  std::string issuer;
  std::string audience;
};

std::string_view to_string(token_error e) noexcept;

class jwt_codec {
 public:
  /// The secret is used as raw bytes, as PyJWT does with a str key.
  jwt_codec(std::string_view secret, std::chrono::seconds lifetime, token_policy policy = {});

  std::chrono::seconds lifetime() const noexcept { return lifetime_; }

  /// A token for `user_id` with its current token stamp, issued at `now` (seconds since the epoch).
  std::string issue(std::int64_t user_id, std::string_view stamp, std::int64_t now) const;
  std::expected<token_claims, token_error> verify(std::string_view token, std::int64_t now) const;

 private:
  std::string sign(std::string_view signing_input) const;

  // HMAC-SHA256 with the key already absorbed (inner and outer pads): each token costs the hash of
  // its own bytes only, not the key set-up again.
  crypto_auth_hmacsha256_state keyed_{};
  std::chrono::seconds lifetime_;
  token_policy policy_;
};

}  // namespace sig::auth
