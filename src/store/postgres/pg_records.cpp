// Row readers; see pg_records.hpp.
#include "store/postgres/pg_records.hpp"

namespace sig::store::postgres::records {
namespace {

domain::organization organization_from(const pg_rows& rows, int row, int first) {
  domain::organization o;
  o.organization_id = rows.int64(row, first);
  o.name = rows.string(row, first + 1);
  o.subnet =
      domain::cidr(static_cast<domain::ipv4>(rows.int64(row, first + 2)), static_cast<int>(rows.int64(row, first + 3)));
  o.owner_id = rows.int64(row, first + 4);
  o.policy = domain::parse_join_policy(rows.text(row, first + 5)).value_or(domain::join_policy::open);
  o.created_at = rows.int64(row, first + 6);
  return o;
}

domain::role role_from(const pg_rows& rows, int row, int column) {
  const auto role = domain::parse_role(rows.text(row, column));
  if (!role) throw store_unavailable("unknown role in the database: " + rows.string(row, column));
  return *role;
}

}  // namespace

domain::user user_at(const pg_rows& rows, int row) {
  return {rows.int64(row, 0), rows.string(row, 1), rows.string(row, 2), rows.int64(row, 3), rows.string(row, 4)};
}

domain::organization organization_at(const pg_rows& rows, int row) { return organization_from(rows, row, 0); }

domain::membership membership_at(const pg_rows& rows, int row) {
  return {rows.int64(row, 0), rows.int64(row, 1), rows.string(row, 2), role_from(rows, row, 3), rows.int64(row, 4)};
}

domain::allocation allocation_at(const pg_rows& rows, int row) {
  return {rows.int64(row, 0),
          rows.int64(row, 1),
          rows.string(row, 2),
          rows.string(row, 3),
          static_cast<domain::ipv4>(rows.int64(row, 4)),
          rows.int64(row, 5)};
}

registration_target registration_at(const pg_rows& rows, int row) {
  return {organization_from(rows, row, 6), allocation_at(rows, row)};
}

domain::peer_info presence_at(const pg_rows& rows, int row) {
  domain::peer_info peer;
  peer.organization_id = rows.int64(row, 0);
  peer.virtual_ip = static_cast<domain::ipv4>(rows.int64(row, 1));
  peer.registration = rows.int64(row, 2);
  peer.process = rows.int64(row, 3);
  peer.connection_id = rows.string(row, 4);
  peer.peer_id = rows.string(row, 5);
  peer.user_id = rows.int64(row, 6);
  peer.email = rows.string(row, 7);
  peer.agent_id = rows.optional_string(row, 8);
  peer.reachable.public_ip = rows.string(row, 9);
  peer.reachable.public_port = static_cast<std::uint16_t>(rows.int64(row, 10));
  peer.reachable.relay_ip = rows.optional_string(row, 11);
  if (const auto port = rows.optional_int64(row, 12)) peer.reachable.relay_port = static_cast<std::uint16_t>(*port);
  return peer;
}

result<domain::role> lock_organization(pg_connection& db, domain::id organization_id, domain::id user_id) {
  const pg_rows rows = db.run(
      "SELECT m.role FROM organizations o"
      " LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = $2"
      " WHERE o.id = $1 FOR UPDATE OF o",
      pg_params(organization_id, user_id));
  if (rows.empty()) return fail(errc::organization_not_found);
  if (rows.is_null(0, 0)) return fail(errc::not_a_member);
  return role_from(rows, 0, 0);
}

}  // namespace sig::store::postgres::records
