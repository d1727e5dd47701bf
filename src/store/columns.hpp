// Column lists shared by the SQL of both stores (the schemas name their columns alike), so that
// every query of either store selects a record the same way, and each store's row readers can
// read it by position.
#pragma once

#include <string>

namespace sig::store::columns {

// "u" is users: id, email, password_hash, created_at, token_stamp.
inline const std::string user = "u.id, u.email, u.password_hash, u.created_at, u.token_stamp";

// "o" is organizations: id, name, network, prefix, owner_id, join_policy, created_at.
inline const std::string organization = "o.id, o.name, o.network, o.prefix, o.owner_id, o.join_policy, o.created_at";

// "m" is memberships joined with users "u"; queries append their WHERE clause.
inline const std::string membership_select =
    "SELECT m.organization_id, m.user_id, u.email, m.role, m.joined_at"
    " FROM memberships m JOIN users u ON u.id = m.user_id ";

// "a" is allocations joined with users "u"; queries append their WHERE clause.
inline const std::string allocation_select =
    "SELECT a.organization_id, a.user_id, u.email, a.agent_id, a.address, a.allocated_at"
    " FROM allocations a JOIN users u ON u.id = a.user_id ";

// An allocation "a" (with its user "u") and its organization "o": where a registration lands.
inline const std::string registration =
    "a.organization_id, a.user_id, u.email, a.agent_id, a.address, a.allocated_at, " + organization;

// Where a registration lands, for the queries that choose it; they append their WHERE clause.
inline const std::string registration_select =
    "SELECT " + registration +
    " FROM allocations a JOIN users u ON u.id = a.user_id JOIN organizations o ON o.id = a.organization_id ";

}  // namespace sig::store::columns
