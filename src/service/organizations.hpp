// Use cases of organizations, memberships and invites (PROTOCOL.md §3): existence and membership
// checks, role rules, then the store. Blocking: run on the database worker pool.
#pragma once

#include "core/error.hpp"
#include "domain/model.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace sig::service {

using domain::id;

struct organization_draft {
  std::string name;
  domain::cidr subnet{0, 0};
  domain::join_policy policy = domain::join_policy::open;
};

domain::organization create_organization(store::store& db, const domain::user& caller, const organization_draft& draft);

/// The organization if the caller is a member: errc::organization_not_found, not_a_member.
result<store::organization_access> organization_of_member(store::store& db, const domain::user& caller,
                                                          id organization_id);

result<domain::membership> join_organization(store::store& db, const domain::user& caller, id organization_id,
                                             const std::optional<std::string>& invite_code);

struct invite_terms {
  std::int64_t max_uses = 1;
  std::int64_t expires_in = 7 * 24 * 3600;  // seconds
};

/// Owner or admin only. The returned code is shown once; the store keeps only its hash.
result<domain::invite> create_invite(store::store& db, const domain::user& caller, id organization_id,
                                     const invite_terms& terms);

result<std::vector<domain::membership>> list_members(store::store& db, const domain::user& caller, id organization_id);

/// Removal by the owner or an admin, or leaving (caller == member). Returns the released
/// addresses and the registrations that went offline with them, whose connections must be closed.
result<store::removal> remove_member(store::store& db, const domain::user& caller, id organization_id, id member_id);

/// Owner only; the store checks the roles in the transaction that changes them.
result<domain::membership> change_role(store::store& db, const domain::user& caller, id organization_id, id member_id,
                                       domain::role new_role);

}  // namespace sig::service
