// Registration target lookup; see registration.hpp.
#include "service/registration.hpp"

#include <algorithm>

namespace sig::service {

result<registration_target> find_registration_target(store::store& db, domain::id user_id,
                                                     std::optional<domain::id> organization_id,
                                                     const std::optional<std::string>& agent_id) {
  auto organizations = db.organizations_of(user_id);
  if (organization_id) {
    std::erase_if(organizations, [&](const domain::organization& o) { return o.organization_id != *organization_id; });
  }
  if (organizations.empty()) return fail(errc::not_a_member);

  const auto member_of = [&](const domain::allocation& a) {
    return std::any_of(organizations.begin(), organizations.end(),
                       [&](const domain::organization& o) { return o.organization_id == a.organization_id; });
  };
  const auto allocations = db.allocations_of(user_id);  // earliest first
  const auto first_for = [&](std::string_view device) {
    return std::find_if(allocations.begin(), allocations.end(),
                        [&](const domain::allocation& a) { return a.agent_id == device && member_of(a); });
  };
  auto chosen = agent_id ? first_for(*agent_id) : allocations.end();
  if (chosen == allocations.end()) chosen = first_for("");
  if (chosen == allocations.end()) return fail(errc::address_not_found);

  const auto organization =
      std::find_if(organizations.begin(), organizations.end(),
                   [&](const domain::organization& o) { return o.organization_id == chosen->organization_id; });
  return registration_target{*organization, *chosen};
}

}  // namespace sig::service
