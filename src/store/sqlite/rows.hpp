// Row readers of the SQLite store's queries, by the column lists of store/columns.hpp.
#pragma once

#include "core/error.hpp"
#include "domain/model.hpp"
#include "store/columns.hpp"
#include "store/sqlite/connection.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace sig::store::sqlite::rows {

using columns::allocation_select;
using columns::membership_select;

domain::user user_at(const statement& row);                  // columns::user
domain::organization organization_at(const statement& row);  // columns::organization
domain::membership membership_at(const statement& row);      // columns::membership_select
domain::allocation allocation_at(const statement& row);      // columns::allocation_select
registration_target registration_at(const statement& row);   // columns::registration

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
