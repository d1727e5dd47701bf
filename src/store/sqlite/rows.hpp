// Column lists and row readers shared by the SQLite store's queries, so that every query selects
// a record the same way.
#pragma once

#include "core/error.hpp"
#include "domain/model.hpp"
#include "store/sqlite/connection.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace sig::store::sqlite::rows {

// "u" is users.
inline const std::string user_columns = "u.id, u.email, u.password_hash, u.created_at";
domain::user user_at(const statement& row);

// "o" is organizations.
inline const std::string organization_columns =
    "o.id, o.name, o.network, o.prefix, o.owner_id, o.join_policy, o.created_at";
domain::organization organization_at(const statement& row);

// "m" is memberships joined with users "u"; queries append their WHERE clause.
inline const std::string membership_select =
    "SELECT m.organization_id, m.user_id, u.email, m.role, m.joined_at"
    " FROM memberships m JOIN users u ON u.id = m.user_id ";
domain::membership membership_at(const statement& row);

// "a" is allocations joined with users "u"; queries append their WHERE clause.
inline const std::string allocation_select =
    "SELECT a.organization_id, a.user_id, u.email, a.agent_id, a.address, a.allocated_at"
    " FROM allocations a JOIN users u ON u.id = a.user_id ";
domain::allocation allocation_at(const statement& row);

// An allocation "a" (with its user "u") and its organization "o": where a registration lands.
inline const std::string registration_columns =
    "a.organization_id, a.user_id, u.email, a.agent_id, a.address, a.allocated_at, " + organization_columns;
registration_target registration_at(const statement& row);

/// The role of `user_id` in the organization, read inside the caller's transaction: the check
/// that guards a change. errc::organization_not_found, not_a_member.
result<domain::role> role_in(connection& db, domain::id organization_id, domain::id user_id);

/// Every row of `sql`, with `keys` bound in order, read by `read_row`.
template <class Read, class... Keys>
auto all_rows(connection& db, const std::string& sql, Read read_row, const Keys&... keys) {
  std::vector<std::invoke_result_t<Read, const statement&>> found;
  auto row = db.prepare(sql);
  row.bind_all(keys...);
  while (row.step()) found.push_back(read_row(row));
  return found;
}

/// The first row of `sql`, if there is one.
template <class Read, class... Keys>
auto first_row(connection& db, const std::string& sql, Read read_row, const Keys&... keys)
    -> std::optional<std::invoke_result_t<Read, const statement&>> {
  auto row = db.prepare(sql);
  if (!row.bind_all(keys...).step()) return std::nullopt;
  return read_row(row);
}

}  // namespace sig::store::sqlite::rows
