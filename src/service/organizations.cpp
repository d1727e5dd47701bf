// Organization use cases; see organizations.hpp.
#include "service/organizations.hpp"

#include "core/random.hpp"
#include "domain/permissions.hpp"

#include <sodium.h>

namespace sig::service {
namespace {

// Invite codes are bearer secrets: only their SHA-256 is stored.
std::string hash_invite_code(std::string_view code) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(code.data()), code.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

}  // namespace

domain::organization create_organization(store::store& db, const domain::user& caller,
                                         const organization_draft& draft) {
  return db.create_organization({draft.name, draft.subnet, draft.policy, caller.user_id, now_micros()});
}

result<store::organization_access> organization_of_member(store::store& db, const domain::user& caller,
                                                          id organization_id) {
  auto access = db.find_organization(organization_id, caller.user_id);
  if (!access) return fail(errc::organization_not_found);
  if (!access->caller_role) return fail(errc::not_a_member);
  return std::move(*access);
}

result<domain::membership> join_organization(store::store& db, const domain::user& caller, id organization_id,
                                             const std::optional<std::string>& invite_code) {
  std::optional<std::string> code_hash;
  if (invite_code) code_hash = hash_invite_code(*invite_code);
  return db.join({organization_id, caller.user_id, std::move(code_hash), now_micros()});
}

result<domain::invite> create_invite(store::store& db, const domain::user& caller, id organization_id,
                                     const invite_terms& terms) {
  const auto access = organization_of_member(db, caller, organization_id);
  if (!access) return std::unexpected(access.error());
  if (!domain::can_create_invites(*access->caller_role))
    return fail(errc::forbidden, "Only the owner or an admin can create invites");
  const unix_micros now = now_micros();
  domain::invite invite{random_token(16), organization_id, terms.max_uses, now + terms.expires_in * 1'000'000};
  db.create_invite(
      {organization_id, caller.user_id, hash_invite_code(invite.code), invite.max_uses, invite.expires_at, now});
  return invite;
}

result<std::vector<domain::membership>> list_members(store::store& db, const domain::user& caller, id organization_id) {
  const auto access = organization_of_member(db, caller, organization_id);
  if (!access) return std::unexpected(access.error());
  return db.members(organization_id);
}

result<store::removal> remove_member(store::store& db, const domain::user& caller, id organization_id, id member_id) {
  return db.remove_member({organization_id, caller.user_id, member_id});
}

result<domain::membership> change_role(store::store& db, const domain::user& caller, id organization_id, id member_id,
                                       domain::role new_role) {
  return db.set_role({organization_id, caller.user_id, member_id, new_role});
}

}  // namespace sig::service
