// PostgreSQL store: virtual IP allocation, release, member removal and where a registration
// lands. The lowest free host address is found as in SQLite (sqlite_addresses.cpp): a free list
// below the organization's watermark, everything above it free unless asked for specifically.
// Every change to an organization's addresses locks its row first, so that allocations, releases
// and removals of one organization happen one at a time across every process; a registration
// (pg_cluster.cpp) locks the allocation it lands on instead, and a removal waits for it.
#include "domain/permissions.hpp"
#include "store/postgres/pg_records.hpp"
#include "store/postgres/pg_store.hpp"

#include <map>

namespace sig::store::postgres {

using namespace records;

namespace {

const std::string allocation_by_address_sql = allocation_select + "WHERE a.organization_id = $1 AND a.address = $2";

bool is_allocated(pg_connection& db, id organization_id, std::int64_t address) {
  return !db.run("SELECT 1 FROM allocations WHERE organization_id = $1 AND address = $2",
                 pg_params(organization_id, address))
              .empty();
}

// Takes `address` out of the free list; false if it was not there.
bool take_released(pg_connection& db, id organization_id, std::int64_t address) {
  return db.run("DELETE FROM released_addresses WHERE organization_id = $1 AND address = $2",
                pg_params(organization_id, address))
             .affected() > 0;
}

struct watermark {
  std::int64_t next_host;
  std::int64_t last_host;
};

// The lowest free address, or nullopt when the subnet is full. Moves the watermark past what it
// hands out.
std::optional<std::int64_t> take_lowest_free(pg_connection& db, id organization_id, const watermark& mark) {
  const pg_rows lowest = db.run(
      "DELETE FROM released_addresses WHERE organization_id = $1 AND address ="
      " (SELECT MIN(address) FROM released_addresses WHERE organization_id = $1) RETURNING address",
      pg_params(organization_id));
  if (!lowest.empty()) return lowest.int64(0, 0);
  // From the watermark up, the first address that no specific request took: read the taken ones
  // in order, a page at a time, until there is a gap.
  constexpr std::int64_t page = 256;
  std::int64_t candidate = mark.next_host;
  while (candidate <= mark.last_host) {
    const pg_rows taken = db.run(
        "SELECT address FROM allocations WHERE organization_id = $1 AND address BETWEEN $2 AND $3"
        " ORDER BY address LIMIT $4",
        pg_params(organization_id, candidate, mark.last_host, page));
    int i = 0;
    while (i < taken.size() && taken.int64(i, 0) == candidate) {
      ++candidate;
      ++i;
    }
    if (i < taken.size() || taken.size() < page) break;  // a gap before the next taken one, or none left
  }
  if (candidate > mark.last_host) return std::nullopt;
  db.run("UPDATE organizations SET next_host = $1 WHERE id = $2", pg_params(candidate + 1, organization_id));
  return candidate;
}

// Frees allocated addresses: those below the watermark join the free list.
void free_addresses(pg_connection& db, id organization_id, const std::vector<domain::allocation>& released) {
  if (released.empty()) return;
  std::vector<std::int64_t> addresses;
  for (const auto& a : released) addresses.push_back(a.address);
  const std::string list = int64_array(addresses);
  db.run("DELETE FROM allocations WHERE organization_id = $1 AND address = ANY($2::bigint[])",
         pg_params(organization_id, list));
  db.run(
      "INSERT INTO released_addresses (organization_id, address)"
      " SELECT o.id, freed FROM organizations o, unnest($2::bigint[]) AS freed WHERE o.id = $1 AND o.next_host > freed",
      pg_params(organization_id, list));
}

// The registrations online on these addresses end with them: their rows go, and the caller
// announces them. Runs after the allocations are locked, so that a registration in flight has
// either committed its row (found here) or will fail on the foreign key.
std::vector<domain::ended_presence> end_presence(pg_connection& db, id organization_id,
                                                 const std::vector<domain::allocation>& released) {
  std::vector<domain::ended_presence> ended;
  if (released.empty()) return ended;
  std::vector<std::int64_t> addresses;
  for (const auto& a : released) addresses.push_back(a.address);
  const pg_rows rows = db.run(
      "DELETE FROM presence WHERE organization_id = $1 AND virtual_ip = ANY($2::bigint[]) RETURNING virtual_ip, epoch",
      pg_params(organization_id, int64_array(addresses)));
  for (int i = 0; i < rows.size(); ++i)
    ended.push_back({static_cast<domain::ipv4>(rows.int64(i, 0)), rows.int64(i, 1)});
  return ended;
}

// The administration commands' answer when a removal would end a registration: they cannot
// close its session (the transaction rolls back).
std::unexpected<error> refusal_online(const std::vector<domain::ended_presence>& ended) {
  std::string online;
  for (const auto& e : ended) online += (online.empty() ? "" : ", ") + domain::format_ipv4(e.address);
  return fail(errc::peer_online, "Online: " + online +
                                     " (remove it through the REST API, which closes its session, or stop its agent "
                                     "first)");
}

}  // namespace

result<domain::allocation> pg_store::allocate(const allocation_request& request) {
  static const std::string by_device_sql =
      allocation_select + "WHERE a.organization_id = $1 AND a.user_id = $2 AND a.agent_id = $3";
  return pool_.transact([&](pg_connection& db) -> result<domain::allocation> {
    const id org = request.organization_id;
    const pg_rows organization = db.run(
        "SELECT o.network, o.prefix, o.next_host, m.role FROM organizations o"
        " LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = $2"
        " WHERE o.id = $1 FOR UPDATE OF o",
        pg_params(org, request.user_id));
    if (organization.empty()) return fail(errc::organization_not_found);
    if (organization.is_null(0, 3)) return fail(errc::not_a_member);
    if (auto held = first_row(db, by_device_sql, pg_params(org, request.user_id, request.agent_id), allocation_at)) {
      if (request.address && *request.address != held->address) return fail(errc::device_has_address);
      return std::move(*held);
    }
    const auto role = domain::parse_role(organization.string(0, 3));
    if (!role) throw store_unavailable("unknown role in the database: " + organization.string(0, 3));
    // The organization's row is locked: concurrent allocations of one member are counted in turn.
    const std::int64_t held = db.run("SELECT COUNT(*) FROM allocations WHERE organization_id = $1 AND user_id = $2",
                                     pg_params(org, request.user_id))
                                  .int64(0, 0);
    if (auto allowed = domain::check_address_quota(*role, held, request.member_quota); !allowed)
      return std::unexpected(allowed.error());
    const domain::cidr subnet(static_cast<domain::ipv4>(organization.int64(0, 0)),
                              static_cast<int>(organization.int64(0, 1)));
    const watermark mark{organization.int64(0, 2), std::int64_t{subnet.last_host()}};

    std::int64_t address = 0;
    if (request.address) {
      address = *request.address;
      const bool free = address < mark.next_host ? take_released(db, org, address) : !is_allocated(db, org, address);
      if (!free) return fail(errc::address_taken);
    } else {
      const auto lowest = take_lowest_free(db, org, mark);
      if (!lowest) return fail(errc::subnet_full);
      address = *lowest;
    }
    db.run(
        "INSERT INTO allocations (organization_id, user_id, agent_id, address, allocated_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        pg_params(org, request.user_id, request.agent_id, address, request.now));
    return first_row(db, allocation_by_address_sql, pg_params(org, address), allocation_at).value();
  });
}

std::vector<domain::allocation> pg_store::allocations(id organization_id) {
  static const std::string sql = allocation_select + "WHERE a.organization_id = $1 ORDER BY a.address";
  return pool_.read([&](pg_connection& db) { return all_rows(db, sql, pg_params(organization_id), allocation_at); });
}

std::optional<domain::allocation> pg_store::find_allocation(id organization_id, domain::ipv4 address) {
  return pool_.read([&](pg_connection& db) {
    return first_row(db, allocation_by_address_sql, pg_params(organization_id, address), allocation_at);
  });
}

std::vector<domain::allocation> pg_store::allocations_of(id user_id) {
  static const std::string sql = allocation_select + "WHERE a.user_id = $1 ORDER BY a.id";
  return pool_.read([&](pg_connection& db) { return all_rows(db, sql, pg_params(user_id), allocation_at); });
}

result<removal> pg_store::release(const release_request& request) {
  static const std::string locked_sql = allocation_by_address_sql + " FOR UPDATE OF a";
  return pool_.transact([&](pg_connection& db) -> result<removal> {
    const auto caller = lock_organization(db, request.organization_id, request.caller_id);
    if (!caller) return std::unexpected(caller.error());
    auto found = first_row(db, locked_sql, pg_params(request.organization_id, request.address), allocation_at);
    if (!found) return fail(errc::address_not_found);
    if (auto allowed = domain::check_address_release(*caller, request.caller_id, found->user_id); !allowed)
      return std::unexpected(allowed.error());
    std::vector<domain::allocation> released{std::move(*found)};
    auto ended = end_presence(db, request.organization_id, released);
    if (request.refuse_online && !ended.empty()) return refusal_online(ended);
    free_addresses(db, request.organization_id, released);
    return removal{std::move(released), std::move(ended)};
  });
}

result<removal> pg_store::remove_member(const member_change& change) {
  static const std::string locked_sql =
      allocation_select + "WHERE a.organization_id = $1 AND a.user_id = $2 ORDER BY a.id FOR UPDATE OF a";
  return pool_.transact([&](pg_connection& db) -> result<removal> {
    const id org = change.organization_id;
    const auto caller = lock_organization(db, org, change.caller_id);
    if (!caller) return std::unexpected(caller.error());
    const pg_rows target = db.run("SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2 FOR UPDATE",
                                  pg_params(org, change.member_id));
    if (target.empty()) return fail(errc::member_not_found);
    const auto target_role = domain::parse_role(target.text(0, 0));
    if (!target_role) throw store_unavailable("unknown role in the database: " + target.string(0, 0));
    if (auto allowed = domain::check_member_removal(*caller, change.caller_id, *target_role, change.member_id);
        !allowed)
      return std::unexpected(allowed.error());

    auto released = all_rows(db, locked_sql, pg_params(org, change.member_id), allocation_at);
    auto ended = end_presence(db, org, released);
    if (change.refuse_online && !ended.empty()) return refusal_online(ended);
    free_addresses(db, org, released);
    db.run("DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2", pg_params(org, change.member_id));
    return removal{std::move(released), std::move(ended)};
  });
}

result<registration_target> pg_store::find_registration_target(id user_id, std::optional<id> organization_id,
                                                               const std::optional<std::string>& agent_id) {
  // The device's own address first, then the user's; each the earliest allocated.
  static const std::string chosen_sql = columns::registration_select +
                                        "WHERE a.user_id = $1 AND ($2::bigint IS NULL OR a.organization_id = $2)"
                                        " AND (a.agent_id = $3 OR a.agent_id = '')"
                                        " ORDER BY a.agent_id = '', a.id LIMIT 1";
  return pool_.read([&](pg_connection& db) -> result<registration_target> {
    if (auto chosen =
            first_row(db, chosen_sql, pg_params(user_id, organization_id, agent_id.value_or("")), registration_at))
      return std::move(*chosen);
    if (db.run("SELECT 1 FROM memberships WHERE user_id = $1 AND ($2::bigint IS NULL OR organization_id = $2)",
               pg_params(user_id, organization_id))
            .empty())
      return fail(errc::not_a_member);
    return fail(errc::address_not_found);
  });
}

std::vector<registration_target> pg_store::registration_candidates(id user_id, std::size_t limit) {
  static const std::string sql = columns::registration_select + "WHERE a.user_id = $1 ORDER BY a.id LIMIT $2";
  return pool_.read([&](pg_connection& db) {
    return all_rows(db, sql, pg_params(user_id, static_cast<std::int64_t>(limit)), registration_at);
  });
}

}  // namespace sig::store::postgres

namespace sig::store::postgres {

result<removal> pg_store::delete_user(id user_id) {
  static const std::string held_sql =
      allocation_select + "WHERE a.user_id = $1 ORDER BY a.organization_id, a.id FOR UPDATE OF a";
  return pool_.transact([&](pg_connection& db) -> result<removal> {
    if (db.run("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", pg_params(user_id)).empty())
      return fail(errc::not_found, "User not found");
    const pg_rows owned = db.run("SELECT id FROM organizations WHERE owner_id = $1 ORDER BY id", pg_params(user_id));
    if (!owned.empty()) {
      std::string ids;
      for (int i = 0; i < owned.size(); ++i) ids += (i ? ", " : "") + std::to_string(owned.int64(i, 0));
      return fail(errc::forbidden, "The user owns organizations " + ids + ": delete them first");
    }
    removal done;
    done.released = all_rows(db, held_sql, pg_params(user_id), allocation_at);
    std::map<id, std::vector<domain::allocation>> by_organization;
    for (const auto& a : done.released) by_organization[a.organization_id].push_back(a);
    for (const auto& [org, held] : by_organization) {
      if (auto ended = end_presence(db, org, held); !ended.empty()) return refusal_online(ended);
      free_addresses(db, org, held);
    }
    db.run("DELETE FROM invites WHERE created_by = $1", pg_params(user_id));
    db.run("DELETE FROM memberships WHERE user_id = $1", pg_params(user_id));
    db.run("DELETE FROM users WHERE id = $1", pg_params(user_id));
    return done;
  });
}

result<removal> pg_store::delete_organization(id organization_id) {
  static const std::string held_sql = allocation_select + "WHERE a.organization_id = $1 ORDER BY a.id FOR UPDATE OF a";
  return pool_.transact([&](pg_connection& db) -> result<removal> {
    if (db.run("SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE", pg_params(organization_id)).empty())
      return fail(errc::organization_not_found);
    removal done;
    done.released = all_rows(db, held_sql, pg_params(organization_id), allocation_at);
    if (auto ended = end_presence(db, organization_id, done.released); !ended.empty()) return refusal_online(ended);
    for (const char* table : {"allocations", "released_addresses", "invites", "memberships"})
      db.run(std::string("DELETE FROM ") + table + " WHERE organization_id = $1", pg_params(organization_id));
    db.run("DELETE FROM organizations WHERE id = $1", pg_params(organization_id));
    return done;
  });
}

}  // namespace sig::store::postgres
