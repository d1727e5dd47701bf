// Which organization and virtual IP an agent's WebSocket registration resolves to
// (PROTOCOL.md §5.2). Blocking (the store): run on the database worker pool.
#pragma once

#include "core/error.hpp"
#include "domain/model.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>

namespace sig::service {

struct registration_target {
  domain::organization organization;
  domain::allocation allocation;
};

/// With `organization_id`: the caller's allocation there for `agent_id` if one exists, else the
/// caller's own. Without: the same rule over all the caller's organizations, earliest allocation
/// first. errc::not_a_member when the caller belongs to no organization (or not to the one
/// named), errc::address_not_found when no allocation fits.
result<registration_target> find_registration_target(store::store& db, domain::id user_id,
                                                     std::optional<domain::id> organization_id,
                                                     const std::optional<std::string>& agent_id);

}  // namespace sig::service
