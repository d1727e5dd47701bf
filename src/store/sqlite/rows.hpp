// Column lists and row readers shared by the SQLite store's queries, so that every query selects
// a record the same way.
#pragma once

#include "domain/model.hpp"
#include "store/sqlite/connection.hpp"

#include <string>

namespace sig::store::sqlite::rows {

// "u" is users.
inline const std::string user_columns = "u.id, u.email, u.password_hash, u.created_at";
domain::user user_at(const statement& row);

// "o" is organizations.
inline const std::string organization_columns =
    "o.id, o.name, o.network, o.prefix, o.owner_id, o.join_policy, o.created_at";
domain::organization organization_at(const statement& row, int first = 0);

// "m" is memberships joined with users "u".
inline const std::string membership_columns = "m.organization_id, m.user_id, u.email, m.role, m.joined_at";
domain::membership membership_at(const statement& row);

// "a" is allocations joined with users "u".
inline const std::string allocation_columns =
    "a.organization_id, a.user_id, u.email, a.agent_id, a.address, a.allocated_at";
domain::allocation allocation_at(const statement& row);

}  // namespace sig::store::sqlite::rows
