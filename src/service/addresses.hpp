// Use cases of virtual IPs (PROTOCOL.md §4): allocation, listing and release, for members only.
// Blocking: run on the database worker pool.
#pragma once

#include "core/error.hpp"
#include "domain/model.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace sig::service {

using domain::id;

struct allocation_wish {
  std::string agent_id;                // empty: the caller's own address
  std::optional<std::string> address;  // a specific address, checked against the subnet here
};

/// Idempotent per (caller, agent_id). A specific address outside the subnet is a validation error
/// on body.virtual_ip. A plain member holds at most `member_quota` addresses (0: no limit):
/// errc::address_quota_exceeded.
result<domain::allocation> allocate_address(store::store& db, const domain::user& caller, id organization_id,
                                            const allocation_wish& wish, std::int64_t member_quota);

result<std::vector<domain::allocation>> list_addresses(store::store& db, const domain::user& caller,
                                                       id organization_id);

/// The holder, the owner or an admin. Returns the released allocation and the registration that
/// went offline with it.
result<store::removal> release_address(store::store& db, const domain::user& caller, id organization_id,
                                       domain::ipv4 address);

}  // namespace sig::service
