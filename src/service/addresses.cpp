// Virtual IP use cases; see addresses.hpp.
#include "service/addresses.hpp"

#include "domain/validation.hpp"
#include "service/organizations.hpp"

namespace sig::service {

result<domain::allocation> allocate_address(store::store& db, const domain::user& caller, id organization_id,
                                            const allocation_wish& wish, std::int64_t member_quota) {
  const auto access = organization_of_member(db, caller, organization_id);
  if (!access) return std::unexpected(access.error());
  std::optional<domain::ipv4> address;
  if (wish.address) {
    const auto checked = domain::validate_address_in(*wish.address, access->organization.subnet);
    if (!checked) return fail_validation({{{"body", "virtual_ip"}, checked.error().msg, checked.error().type}});
    address = *checked;
  }
  return db.allocate({organization_id, caller.user_id, wish.agent_id, address, now_micros(), member_quota});
}

result<std::vector<domain::allocation>> list_addresses(store::store& db, const domain::user& caller,
                                                       id organization_id) {
  const auto access = organization_of_member(db, caller, organization_id);
  if (!access) return std::unexpected(access.error());
  return db.allocations(organization_id);
}

result<store::removal> release_address(store::store& db, const domain::user& caller, id organization_id,
                                       domain::ipv4 address) {
  return db.release({organization_id, caller.user_id, address});
}

}  // namespace sig::service
