// TURN credentials in coturn's REST form (`use-auth-secret`, draft-uberti-behave-turn-rest): the
// username is "<unix expiry>:<user id>" and the password base64(HMAC-SHA1(secret, username)). The
// TURN server recomputes the password from the secret both share and refuses an expired username:
// no database or call between this server and the TURN server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sig::auth {

struct turn_credential {
  std::string username;         // "<expires_at>:<user id>"
  std::string credential;       // base64 (with padding) of the 20-byte HMAC-SHA1
  std::int64_t expires_at = 0;  // Unix seconds
};

/// Credentials of `user_id`, valid from `now_unix` for `ttl_seconds`.
turn_credential make_turn_credential(std::string_view secret, std::int64_t user_id, std::int64_t now_unix,
                                     std::int64_t ttl_seconds);

}  // namespace sig::auth
