// Use cases of user accounts: registration, login and the identity behind a token. Blocking
// (Argon2id and the store): run them on the hashing worker pool.
#pragma once

#include "auth/jwt.hpp"
#include "auth/password_hasher.hpp"
#include "core/error.hpp"
#include "domain/model.hpp"
#include "store/store.hpp"

#include <string>
#include <string_view>

namespace sig::service {

struct issued_token {
  std::string access_token;
  std::int64_t expires_in = 0;  // seconds
};

/// `email` and `password` already passed validation. errc::email_taken.
result<domain::user> register_user(store::store& db, const auth::password_hasher& hasher, std::string email,
                                   std::string_view password);

/// errc::bad_credentials for an unknown email and a wrong password alike, after the same work.
result<issued_token> login(store::store& db, const auth::password_hasher& hasher, const auth::jwt_codec& tokens,
                           std::string_view email, std::string_view password);

/// The user a verified token names; errc::invalid_token when it no longer exists.
result<domain::user> caller_from_token(store::store& db, domain::id user_id);

}  // namespace sig::service
