// See registration_candidates.hpp.
#include "store/registration_candidates.hpp"

namespace sig::store {

std::optional<registration_candidates> read_registration_candidates(store& db, id user_id) {
  const auto as_of = db.local_write_count();
  if (!as_of) return std::nullopt;
  registration_candidates candidates{*as_of, false,
                                     db.registration_candidates(user_id, registration_candidates_read + 1)};
  candidates.complete = candidates.targets.size() <= registration_candidates_read;
  if (!candidates.complete) candidates.targets.clear();
  return candidates;
}

bool still_current(const registration_candidates& candidates, const store& db) noexcept {
  const auto now = db.local_write_count();
  return now && *now == candidates.as_of;
}

const registration_target* choose_registration_target(std::span<const registration_target> targets,
                                                      std::optional<id> organization_id, std::string_view agent_id) {
  // As the query's ORDER BY a.agent_id = '', a.id: the device's own first, then the user's.
  const registration_target* own = nullptr;
  for (const auto& target : targets) {
    if (organization_id && target.organization.organization_id != *organization_id) continue;
    if (!agent_id.empty() && target.allocation.agent_id == agent_id) return &target;
    if (!own && target.allocation.agent_id.empty()) own = &target;
  }
  return own;
}

}  // namespace sig::store
