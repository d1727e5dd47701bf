// Who may do what inside an organization (PROTOCOL.md §3-4). Pure rules over roles; the service
// layer looks the roles up and applies them.
#pragma once

#include "core/error.hpp"
#include "domain/model.hpp"

namespace sig::domain {

/// Owners and admins create invites.
bool can_create_invites(role actor) noexcept;

/// Only the owner changes roles, the owner's own role never changes, and nobody becomes owner.
result<void> check_role_change(role actor, role target, role new_role);

/// Leaving (actor == target) is allowed to everyone but the owner. Removing someone else takes the
/// owner, or an admin when the target is a plain member.
result<void> check_member_removal(role actor, id actor_id, role target, id target_id);

/// The holder of an address, the owner and admins may release it.
result<void> check_address_release(role actor, id actor_id, id holder_id);

/// A plain member may hold at most `quota` addresses of one organization (0: no limit); owners
/// and admins are not limited (PROTOCOL.md §4). `held` counts the addresses held before this one.
result<void> check_address_quota(role actor, std::int64_t held, std::int64_t quota);

}  // namespace sig::domain
