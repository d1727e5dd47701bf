// Account use cases; see accounts.hpp.
#include "service/accounts.hpp"

#include "core/random.hpp"
#include "domain/validation.hpp"

#include <algorithm>
#include <cctype>

namespace sig::service {
namespace {

std::string new_token_stamp() { return random_hex(16); }

}  // namespace

result<domain::user> register_user(store::store& db, const auth::password_hasher& hasher, std::string email,
                                   std::string_view password) {
  // Checked before hashing so that a taken email costs no Argon2 run; the UNIQUE constraint
  // still decides between two concurrent registrations.
  if (db.find_user_by_email(email)) return fail(errc::email_taken);
  return db.create_user({std::move(email), hasher.hash(password), now_micros(), new_token_stamp()});
}

result<issued_token> login(store::store& db, const auth::password_hasher& hasher, const auth::jwt_codec& tokens,
                           std::string_view email, std::string_view password) {
  std::string normalised(email);
  std::transform(normalised.begin(), normalised.end(), normalised.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // No stored email is longer, or holds a NUL (which some databases would cut the text at).
  const bool could_exist = normalised.size() <= domain::limits::email_max && normalised.find('\0') == std::string::npos;
  const auto user = could_exist ? db.find_user_by_email(normalised) : std::nullopt;
  if (!user) {
    hasher.verify_nothing(password);
    return fail(errc::bad_credentials);
  }
  if (!hasher.verify(user->password_hash, password)) return fail(errc::bad_credentials);
  if (hasher.needs_rehash(user->password_hash)) db.update_password_hash(user->user_id, hasher.hash(password));
  return issued_token{tokens.issue(user->user_id, user->token_stamp, now_micros() / 1'000'000),
                      tokens.lifetime().count()};
}

result<domain::user> caller_from_token(store::store& db, const auth::token_claims& claims) {
  auto user = db.find_user(claims.user_id);
  // An empty stamp (a token without one) never names a user.
  if (!user || claims.stamp.empty() || claims.stamp != user->token_stamp) return fail(errc::invalid_token);
  return std::move(*user);
}

void revoke_tokens(store::store& db, const domain::user& user) {
  db.replace_token_stamp(user.user_id, new_token_stamp());
}

}  // namespace sig::service
