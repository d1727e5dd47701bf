// Row readers of the PostgreSQL store's queries, by the column lists of store/columns.hpp, and
// the checks that its write transactions share.
#pragma once

#include "core/error.hpp"
#include "domain/model.hpp"
#include "domain/presence.hpp"
#include "store/columns.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/store.hpp"

#include <optional>
#include <type_traits>
#include <vector>

namespace sig::store::postgres::records {

using columns::allocation_select;
using columns::membership_select;

domain::user user_at(const pg_rows& rows, int row);                  // columns::user
domain::organization organization_at(const pg_rows& rows, int row);  // columns::organization
domain::membership membership_at(const pg_rows& rows, int row);      // columns::membership_select
domain::allocation allocation_at(const pg_rows& rows, int row);      // columns::allocation_select
registration_target registration_at(const pg_rows& rows, int row);   // columns::registration

// A presence row "p" with the email of its user "u".
inline const std::string presence_columns =
    "p.organization_id, p.virtual_ip, p.epoch, p.process_id, p.connection_id, p.peer_id, p.user_id, u.email,"
    " p.agent_id, p.public_ip, p.public_port, p.relay_ip, p.relay_port";
domain::peer_info presence_at(const pg_rows& rows, int row);

/// Locks the organization's row (every change to its members and addresses takes this lock, so
/// they happen one at a time, whichever process makes them) and returns the role of `user_id`.
/// errc::organization_not_found, not_a_member.
result<domain::role> lock_organization(pg_connection& db, domain::id organization_id, domain::id user_id);

/// Every row of `sql` with `params`, read by `read_row`.
template <class Read>
auto all_rows(pg_connection& db, std::string_view sql, const pg_params& params, Read read_row) {
  std::vector<std::invoke_result_t<Read, const pg_rows&, int>> found;
  const pg_rows rows = db.run(sql, params);
  found.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) found.push_back(read_row(rows, i));
  return found;
}

/// The first row of `sql`, if there is one.
template <class Read>
auto first_row(pg_connection& db, std::string_view sql, const pg_params& params, Read read_row)
    -> std::optional<std::invoke_result_t<Read, const pg_rows&, int>> {
  const pg_rows rows = db.run(sql, params);
  if (rows.empty()) return std::nullopt;
  return read_row(rows, 0);
}

}  // namespace sig::store::postgres::records
