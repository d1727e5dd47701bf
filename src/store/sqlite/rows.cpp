// Row readers; see rows.hpp.
#include "store/sqlite/rows.hpp"

#include "store/store.hpp"

namespace sig::store::sqlite::rows {

domain::user user_at(const statement& row) {
  return {row.int64_at(0), row.text_at(1), row.text_at(2), row.int64_at(3)};
}

domain::organization organization_at(const statement& row) {
  constexpr int first = 0;
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

domain::membership membership_at(const statement& row) {
  const auto role = domain::parse_role(row.text_at(3));
  if (!role) throw store_unavailable("unknown role in the database: " + row.text_at(3));
  return {row.int64_at(0), row.int64_at(1), row.text_at(2), *role, row.int64_at(4)};
}

domain::allocation allocation_at(const statement& row) {
  return {row.int64_at(0), row.int64_at(1), row.text_at(2), row.text_at(3), static_cast<domain::ipv4>(row.int64_at(4)),
          row.int64_at(5)};
}

}  // namespace sig::store::sqlite::rows
