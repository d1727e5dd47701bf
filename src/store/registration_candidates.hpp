// Where a WebSocket registration may land, read once with the token check at the upgrade, so that
// the registration that follows needs no second trip to the database (single process, SQLite).
// The choice made in memory is find_registration_target's; the store's write count tells whether
// what was read is still what the database holds.
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sig::store {

struct registration_candidates {
  std::uint64_t as_of = 0;                   // the store's local_write_count() before the read
  bool complete = false;                     // every allocation of the user is among targets
  std::vector<registration_target> targets;  // oldest allocation first
};

/// How many allocations are read ahead: an agent's user rarely holds more. A user with more
/// registers through find_registration_target, as without the read ahead.
inline constexpr std::size_t registration_candidates_read = 8;

/// The user's candidates; nullopt when the store cannot tell later whether they are still current
/// (other processes write to its database).
std::optional<registration_candidates> read_registration_candidates(store& db, id user_id);

/// Whether nothing has been written since the candidates were read.
bool still_current(const registration_candidates& candidates, const store& db) noexcept;

/// The target find_registration_target(user, organization_id, agent_id) chooses among `targets`
/// (every allocation of the user, oldest first): the allocation for `agent_id`, else the user's
/// own (no agent), in `organization_id` if given; nullptr when none fits.
const registration_target* choose_registration_target(std::span<const registration_target> targets,
                                                      std::optional<id> organization_id, std::string_view agent_id);

}  // namespace sig::store
