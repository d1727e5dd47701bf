// Role rules; see permissions.hpp.
#include "domain/permissions.hpp"

namespace sig::domain {
namespace {

bool is_manager(role r) noexcept { return r == role::owner || r == role::admin; }

}  // namespace

bool can_create_invites(role actor) noexcept { return is_manager(actor); }

result<void> check_role_change(role actor, role target, role new_role) {
  if (actor != role::owner) return fail(errc::forbidden, "Only the owner can change roles");
  if (target == role::owner) return fail(errc::owner_role_fixed);
  if (new_role == role::owner) return fail(errc::forbidden, "The owner role cannot be given");
  return {};
}

result<void> check_member_removal(role actor, id actor_id, role target, id target_id) {
  if (actor_id == target_id) {
    if (actor == role::owner) return fail(errc::owner_cannot_leave);
    return {};
  }
  if (actor == role::owner) return {};
  if (actor == role::admin && target == role::member) return {};
  if (actor == role::admin) return fail(errc::forbidden, "Only the owner can remove an admin or the owner");
  return fail(errc::forbidden, "Only the owner or an admin can remove members");
}

result<void> check_address_release(role actor, id actor_id, id holder_id) {
  if (actor_id == holder_id || is_manager(actor)) return {};
  return fail(errc::forbidden, "Only the holder, the owner or an admin can release this address");
}

result<void> check_address_quota(role actor, std::int64_t held, std::int64_t quota) {
  if (quota <= 0 || is_manager(actor) || held < quota) return {};
  return fail(errc::address_quota_exceeded, "Address quota exceeded: a member may hold at most " +
                                                std::to_string(quota) + " addresses in an organization");
}

}  // namespace sig::domain
