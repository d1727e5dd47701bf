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

/// The user a verified token names: the user with its id and, still, its token stamp.
/// errc::invalid_token when the user is gone, was replaced by another of the same id, or revoked
/// the token (a new stamp).
result<domain::user> caller_from_token(store::store& db, const auth::token_claims& claims);

/// Revokes every token issued to the user so far (POST /logout): a new token stamp.
void revoke_tokens(store::store& db, const domain::user& user);

}  // namespace sig::service
