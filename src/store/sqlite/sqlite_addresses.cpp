// SQLite store: virtual IP allocation. The lowest free host address is found without scanning
// the subnet: free addresses below the organization's watermark (next_host) are listed in
// released_addresses, and everything from the watermark up is free unless a specific address was
// asked for there, which the watermark skips when it reaches it.
#include "domain/permissions.hpp"
#include "store/sqlite/rows.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace sig::store::sqlite {
namespace {

using namespace rows;

const std::string& allocation_by_device_sql() {
  static const std::string sql = allocation_select + "WHERE a.organization_id = ? AND a.user_id = ? AND a.agent_id = ?";
  return sql;
}

const std::string& allocation_by_address_sql() {
  static const std::string sql = allocation_select + "WHERE a.organization_id = ? AND a.address = ?";
  return sql;
}

bool is_allocated(connection& db, id organization_id, std::int64_t address) {
  return db.prepare("SELECT 1 FROM allocations WHERE organization_id = ? AND address = ?")
      .bind_all(organization_id, address)
      .step();
}

// Takes `address` out of the free list; false if it was not there.
bool take_released(connection& db, id organization_id, std::int64_t address) {
  db.prepare("DELETE FROM released_addresses WHERE organization_id = ? AND address = ?")
      .bind_all(organization_id, address)
      .step();
  return db.changes() > 0;
}

std::int64_t addresses_held(connection& db, id organization_id, id user_id) {
  auto count = db.prepare("SELECT COUNT(*) FROM allocations WHERE organization_id = ? AND user_id = ?");
  count.bind_all(organization_id, user_id).step();
  return count.int64_at(0);
}

struct watermark {
  std::int64_t next_host;
  std::int64_t last_host;
};

std::optional<watermark> watermark_of(connection& db, id organization_id) {
  auto row = db.prepare("SELECT network, prefix, next_host FROM organizations WHERE id = ?");
  if (!row.bind_all(organization_id).step()) return std::nullopt;
  const domain::cidr subnet(static_cast<domain::ipv4>(row.int64_at(0)), static_cast<int>(row.int64_at(1)));
  return watermark{row.int64_at(2), std::int64_t{subnet.last_host()}};
}

// The lowest free address, or nullopt when the subnet is full. Moves the watermark past what it
// hands out.
std::optional<std::int64_t> take_lowest_free(connection& db, id organization_id, const watermark& mark) {
  {
    auto lowest = db.prepare("SELECT MIN(address) FROM released_addresses WHERE organization_id = ?");
    lowest.bind_all(organization_id).step();
    if (!lowest.is_null_at(0)) {
      const std::int64_t address = lowest.int64_at(0);
      take_released(db, organization_id, address);
      return address;
    }
  }
  std::int64_t candidate = mark.next_host;
  while (candidate <= mark.last_host && is_allocated(db, organization_id, candidate)) ++candidate;
  if (candidate > mark.last_host) return std::nullopt;
  db.prepare("UPDATE organizations SET next_host = ? WHERE id = ?").bind_all(candidate + 1, organization_id).step();
  return candidate;
}

// Frees an allocated address: below the watermark it joins the free list.
void free_address(connection& db, id organization_id, std::int64_t address) {
  db.prepare("DELETE FROM allocations WHERE organization_id = ? AND address = ?")
      .bind_all(organization_id, address)
      .step();
  db.prepare(
        "INSERT INTO released_addresses (organization_id, address)"
        " SELECT id, ? FROM organizations WHERE id = ? AND next_host > ?")
      .bind_all(address, organization_id, address)
      .step();
}

}  // namespace

result<domain::allocation> sqlite_store::allocate(const allocation_request& request) {
  return write([&](connection& db) -> result<domain::allocation> {
    const id org = request.organization_id;
    const auto role = role_in(db, org, request.user_id);
    if (!role) return std::unexpected(role.error());
    if (auto held = first_row(db, allocation_by_device_sql(), allocation_at, org, request.user_id, request.agent_id)) {
      if (request.address && *request.address != held->address) return fail(errc::device_has_address);
      return std::move(*held);
    }
    if (auto allowed =
            domain::check_address_quota(*role, addresses_held(db, org, request.user_id), request.member_quota);
        !allowed)
      return std::unexpected(allowed.error());
    const auto mark = watermark_of(db, org);
    if (!mark) return fail(errc::organization_not_found);

    std::int64_t address = 0;
    if (request.address) {
      address = *request.address;
      const bool free = address < mark->next_host ? take_released(db, org, address) : !is_allocated(db, org, address);
      if (!free) return fail(errc::address_taken);
    } else {
      const auto lowest = take_lowest_free(db, org, *mark);
      if (!lowest) return fail(errc::subnet_full);
      address = *lowest;
    }
    db.prepare(
          "INSERT INTO allocations (organization_id, user_id, agent_id, address, allocated_at)"
          " VALUES (?, ?, ?, ?, ?)")
        .bind_all(org, request.user_id, request.agent_id, address, request.now)
        .step();
    return first_row(db, allocation_by_address_sql(), allocation_at, org, address).value();
  });
}

std::vector<domain::allocation> sqlite_store::allocations(id organization_id) {
  static const std::string sql = allocation_select + "WHERE a.organization_id = ? ORDER BY a.address";
  return read([&](connection& db) { return all_rows(db, sql, allocation_at, organization_id); });
}

std::optional<domain::allocation> sqlite_store::find_allocation(id organization_id, domain::ipv4 address) {
  return read([&](connection& db) {
    return first_row(db, allocation_by_address_sql(), allocation_at, organization_id, std::int64_t{address});
  });
}

std::vector<domain::allocation> sqlite_store::allocations_of(id user_id) {
  static const std::string sql = allocation_select + "WHERE a.user_id = ? ORDER BY a.id";
  return read([&](connection& db) { return all_rows(db, sql, allocation_at, user_id); });
}

namespace {

// SQLite keeps no presence table: a freed address ends whatever registration holds it.
std::vector<domain::ended_presence> ended_at(const std::vector<domain::allocation>& released) {
  std::vector<domain::ended_presence> ended;
  for (const auto& a : released) ended.push_back({a.address, 0});
  return ended;
}

}  // namespace

result<removal> sqlite_store::release(const release_request& request) {
  return write([&](connection& db) -> result<removal> {
    const auto caller = role_in(db, request.organization_id, request.caller_id);
    if (!caller) return std::unexpected(caller.error());
    auto found = first_row(db, allocation_by_address_sql(), allocation_at, request.organization_id,
                           std::int64_t{request.address});
    if (!found) return fail(errc::address_not_found);
    if (auto allowed = domain::check_address_release(*caller, request.caller_id, found->user_id); !allowed)
      return std::unexpected(allowed.error());
    free_address(db, request.organization_id, request.address);
    std::vector<domain::allocation> released{std::move(*found)};
    auto ended = ended_at(released);
    return removal{std::move(released), std::move(ended)};
  });
}

result<removal> sqlite_store::remove_member(const member_change& change) {
  static const std::string sql = allocation_select + "WHERE a.organization_id = ? AND a.user_id = ? ORDER BY a.id";
  static const std::string role_sql = "SELECT role FROM memberships WHERE organization_id = ? AND user_id = ?";
  return write([&](connection& db) -> result<removal> {
    const id org = change.organization_id;
    const auto caller = role_in(db, org, change.caller_id);
    if (!caller) return std::unexpected(caller.error());
    const auto target = first_row(
        db, role_sql, [](const statement& row) { return row.text_at(0); }, org, change.member_id);
    if (!target) return fail(errc::member_not_found);
    const auto target_role = domain::parse_role(*target);
    if (!target_role) throw store_unavailable("unknown role in the database: " + *target);
    if (auto allowed = domain::check_member_removal(*caller, change.caller_id, *target_role, change.member_id);
        !allowed)
      return std::unexpected(allowed.error());

    auto released = all_rows(db, sql, allocation_at, org, change.member_id);
    for (const auto& a : released) free_address(db, org, a.address);
    db.prepare("DELETE FROM memberships WHERE organization_id = ? AND user_id = ?")
        .bind_all(org, change.member_id)
        .step();
    auto ended = ended_at(released);
    return removal{std::move(released), std::move(ended)};
  });
}

}  // namespace sig::store::sqlite

namespace sig::store::sqlite {

result<removal> sqlite_store::delete_user(id user_id) {
  static const std::string held_sql = allocation_select + "WHERE a.user_id = ? ORDER BY a.organization_id, a.id";
  return write([&](connection& db) -> result<removal> {
    if (!db.prepare("SELECT 1 FROM users WHERE id = ?").bind_all(user_id).step())
      return fail(errc::not_found, "User not found");
    const auto owned = all_rows(
        db, "SELECT id FROM organizations WHERE owner_id = ? ORDER BY id",
        [](const statement& row) { return row.int64_at(0); }, user_id);
    if (!owned.empty()) {
      std::string ids;
      for (const auto organization : owned) ids += (ids.empty() ? "" : ", ") + std::to_string(organization);
      return fail(errc::forbidden, "The user owns organizations " + ids + ": delete them first");
    }
    removal done;
    done.released = all_rows(db, held_sql, allocation_at, user_id);
    for (const auto& a : done.released) free_address(db, a.organization_id, a.address);
    done.went_offline = ended_at(done.released);
    db.prepare("DELETE FROM invites WHERE created_by = ?").bind_all(user_id).step();
    db.prepare("DELETE FROM memberships WHERE user_id = ?").bind_all(user_id).step();
    db.prepare("DELETE FROM users WHERE id = ?").bind_all(user_id).step();
    return done;
  });
}

result<removal> sqlite_store::delete_organization(id organization_id) {
  static const std::string held_sql = allocation_select + "WHERE a.organization_id = ? ORDER BY a.id";
  return write([&](connection& db) -> result<removal> {
    if (!db.prepare("SELECT 1 FROM organizations WHERE id = ?").bind_all(organization_id).step())
      return fail(errc::organization_not_found);
    removal done;
    done.released = all_rows(db, held_sql, allocation_at, organization_id);
    done.went_offline = ended_at(done.released);
    for (const char* table : {"allocations", "released_addresses", "invites", "memberships"})
      db.prepare(std::string("DELETE FROM ") + table + " WHERE organization_id = ?").bind_all(organization_id).step();
    db.prepare("DELETE FROM organizations WHERE id = ?").bind_all(organization_id).step();
    return done;
  });
}

}  // namespace sig::store::sqlite
