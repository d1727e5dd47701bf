// Row readers; see rows.hpp.
#include "store/sqlite/rows.hpp"

#include "store/store.hpp"

namespace sig::store::sqlite::rows {

domain::user user_at(const statement& row) {
  return {row.int64_at(0), row.text_at(1), row.text_at(2), row.int64_at(3), row.text_at(4)};
}

namespace {

domain::organization organization_from(const statement& row, int first) {
  domain::organization o;
  o.organization_id = row.int64_at(first);
  o.name = row.text_at(first + 1);
  o.subnet =
      domain::cidr(static_cast<domain::ipv4>(row.int64_at(first + 2)), static_cast<int>(row.int64_at(first + 3)));
  o.owner_id = row.int64_at(first + 4);
  o.policy = domain::parse_join_policy(row.text_at(first + 5)).value_or(domain::join_policy::open);
  o.created_at = row.int64_at(first + 6);
  return o;
}

}  // namespace

domain::organization organization_at(const statement& row) { return organization_from(row, 0); }

domain::membership membership_at(const statement& row) {
  const auto role = domain::parse_role(row.text_at(3));
  if (!role) throw store_unavailable("unknown role in the database: " + row.text_at(3));
  return {row.int64_at(0), row.int64_at(1), row.text_at(2), *role, row.int64_at(4)};
}

domain::allocation allocation_at(const statement& row) {
  return {row.int64_at(0), row.int64_at(1), row.text_at(2), row.text_at(3), static_cast<domain::ipv4>(row.int64_at(4)),
          row.int64_at(5)};
}

registration_target registration_at(const statement& row) { return {organization_from(row, 6), allocation_at(row)}; }

result<domain::role> role_in(connection& db, domain::id organization_id, domain::id user_id) {
  auto row = db.prepare(
      "SELECT m.role FROM organizations o"
      " LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = ? WHERE o.id = ?");
  if (!row.bind_all(user_id, organization_id).step()) return fail(errc::organization_not_found);
  if (row.is_null_at(0)) return fail(errc::not_a_member);
  const auto role = domain::parse_role(row.text_at(0));
  if (!role) throw store_unavailable("unknown role in the database: " + row.text_at(0));
  return *role;
}

}  // namespace sig::store::sqlite::rows
