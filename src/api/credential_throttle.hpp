// Throttling of the routes that hash a password (/login, /register: PROTOCOL.md §2), decided on
// the I/O thread before the request reaches the bounded hashing pool, so that a flood from one
// address waits at its own door instead of filling the pool that every other user needs:
// - per client address: every attempt counts;
// - per account (the email the body names): only failed attempts count, so that a user who types
//   the right password is never slowed down by their own logins; an attempt holds its token while
//   it runs and gets it back when it succeeds, so concurrent guesses cannot overtake the limit.
#pragma once

#include "api/request.hpp"
#include "core/keyed_rate_limiter.hpp"

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace sig::api {

struct throttle_settings {
  double address_per_minute = 60;  // AUTH_RATE_PER_ADDRESS_PER_MINUTE; 0: off
  double address_burst = 30;       // AUTH_BURST_PER_ADDRESS
  double account_per_minute = 10;  // AUTH_RATE_PER_ACCOUNT_PER_MINUTE; 0: off
  double account_burst = 10;       // AUTH_BURST_PER_ACCOUNT
};

class credential_throttle {
 public:
  explicit credential_throttle(const throttle_settings& settings);

  /// An admitted attempt: keep it until the answer is known, then tell finish() the status.
  struct attempt {
    std::string account;  // empty: the body names none (the handler answers 422)
  };

  /// Admits an attempt from `client` on the account `request`'s body names, or says how long to
  /// wait (whole seconds, at least 1) before trying again.
  std::expected<attempt, std::chrono::seconds> admit(std::string_view client, const api_request& request);
  /// A successful attempt gives its account token back.
  void finish(const attempt& admitted, unsigned status);

 private:
  keyed_rate_limiter by_address_;
  keyed_rate_limiter by_account_;
};

/// The account a /login or /register body names, lower-cased: "email" of a JSON body, "username"
/// of the OAuth2 form; empty when the body names none.
std::string account_named_by(const api_request& request);

}  // namespace sig::api
