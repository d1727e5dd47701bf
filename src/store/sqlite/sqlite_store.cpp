// SQLite store: users, organizations, memberships and invites. Addresses are in
// sqlite_addresses.cpp.
#include "store/sqlite/sqlite_store.hpp"

#include "domain/permissions.hpp"
#include "store/sqlite/migrate.hpp"
#include "store/sqlite/rows.hpp"

#include <sqlite3.h>

namespace sig::store::sqlite {

using namespace rows;

namespace {

const std::string member_sql = membership_select + "WHERE m.organization_id = ? AND m.user_id = ?";

}  // namespace

sqlite_store::sqlite_store(const std::string& path, std::size_t readers)
    : writer_(path, 1), readers_(path, readers), health_(path) {
  writer_.with_connection([](connection& db) { migrate(db); });
}

result<domain::user> sqlite_store::create_user(const new_user& user) {
  return write([&](connection& db) -> result<domain::user> {
    try {
      db.prepare("INSERT INTO users (email, password_hash, created_at, token_stamp) VALUES (?, ?, ?, ?)")
          .bind_all(user.email, user.password_hash, user.created_at, user.token_stamp)
          .step();
    } catch (const constraint_violation&) {
      return fail(errc::email_taken);
    }
    return domain::user{db.last_insert_rowid(), user.email, user.password_hash, user.created_at, user.token_stamp};
  });
}

std::optional<domain::user> sqlite_store::find_user(id user_id) {
  static const std::string sql = "SELECT " + columns::user + " FROM users u WHERE u.id = ?";
  return read([&](connection& db) { return first_row(db, sql, user_at, user_id); });
}

std::optional<domain::user> sqlite_store::find_user_by_email(std::string_view email) {
  static const std::string sql = "SELECT " + columns::user + " FROM users u WHERE u.email = ?";
  return read([&](connection& db) { return first_row(db, sql, user_at, email); });
}

void sqlite_store::update_password_hash(id user_id, std::string_view password_hash) {
  write([&](connection& db) {
    db.prepare("UPDATE users SET password_hash = ? WHERE id = ?").bind_all(password_hash, user_id).step();
    return true;
  });
}

bool sqlite_store::replace_token_stamp(id user_id, std::string_view stamp) {
  return write([&](connection& db) {
    db.prepare("UPDATE users SET token_stamp = ? WHERE id = ?").bind_all(stamp, user_id).step();
    return db.changes() > 0;
  });
}

domain::organization sqlite_store::create_organization(const new_organization& o) {
  return write([&](connection& db) {
    db.prepare(
          "INSERT INTO organizations (name, network, prefix, owner_id, join_policy, next_host, created_at)"
          " VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind_all(o.name, std::int64_t{o.subnet.network()}, std::int64_t{o.subnet.prefix()}, o.owner_id,
                  domain::to_string(o.policy), std::int64_t{o.subnet.first_host()}, o.created_at)
        .step();
    const id organization_id = db.last_insert_rowid();
    db.prepare("INSERT INTO memberships (organization_id, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)")
        .bind_all(organization_id, o.owner_id, o.created_at)
        .step();
    return domain::organization{organization_id, o.name, o.subnet, o.owner_id, o.policy, o.created_at};
  });
}

std::optional<organization_access> sqlite_store::find_organization(id organization_id, id caller) {
  static const std::string sql = "SELECT " + columns::organization +
                                 ", m.role FROM organizations o"
                                 " LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = ?"
                                 " WHERE o.id = ?";
  const auto access_at = [](const statement& row) {
    return organization_access{organization_at(row), domain::parse_role(row.text_at(7))};
  };
  return read([&](connection& db) { return first_row(db, sql, access_at, caller, organization_id); });
}

std::vector<domain::organization> sqlite_store::organizations_of(id user_id) {
  static const std::string sql = "SELECT " + columns::organization +
                                 " FROM organizations o JOIN memberships m ON m.organization_id = o.id"
                                 " WHERE m.user_id = ? ORDER BY o.id";
  return read([&](connection& db) { return all_rows(db, sql, organization_at, user_id); });
}

std::vector<domain::user> sqlite_store::users() {
  static const std::string sql = "SELECT " + columns::user + " FROM users u ORDER BY u.id";
  return read([&](connection& db) { return all_rows(db, sql, user_at); });
}

std::vector<domain::organization> sqlite_store::all_organizations() {
  static const std::string sql = "SELECT " + columns::organization + " FROM organizations o ORDER BY o.id";
  return read([&](connection& db) { return all_rows(db, sql, organization_at); });
}

result<domain::membership> sqlite_store::join(const join_request& request) {
  return write([&](connection& db) -> result<domain::membership> {
    auto organization = db.prepare("SELECT join_policy FROM organizations WHERE id = ?");
    if (!organization.bind_all(request.organization_id).step()) return fail(errc::organization_not_found);
    const bool invite_only = organization.text_at(0) == "invite";
    auto existing = db.prepare("SELECT 1 FROM memberships WHERE organization_id = ? AND user_id = ?");
    if (existing.bind_all(request.organization_id, request.user_id).step()) return fail(errc::already_member);
    if (invite_only) {
      if (!request.invite_code_hash) return fail(errc::invite_required);
      auto use = db.prepare(
          "UPDATE invites SET uses = uses + 1"
          " WHERE code_hash = ? AND organization_id = ? AND uses < max_uses AND expires_at > ?");
      use.bind_all(*request.invite_code_hash, request.organization_id, request.now).step();
      if (db.changes() == 0) return fail(errc::invite_invalid);
    }
    db.prepare("INSERT INTO memberships (organization_id, user_id, role, joined_at) VALUES (?, ?, 'member', ?)")
        .bind_all(request.organization_id, request.user_id, request.now)
        .step();
    auto email = db.prepare("SELECT email FROM users WHERE id = ?");
    email.bind_all(request.user_id).step();
    return domain::membership{request.organization_id, request.user_id, email.text_at(0), domain::role::member,
                              request.now};
  });
}

void sqlite_store::create_invite(const new_invite& invite) {
  write([&](connection& db) {
    db.prepare(
          "INSERT INTO invites (organization_id, code_hash, created_by, max_uses, expires_at, created_at)"
          " VALUES (?, ?, ?, ?, ?, ?)")
        .bind_all(invite.organization_id, invite.code_hash, invite.created_by, invite.max_uses, invite.expires_at,
                  invite.created_at)
        .step();
    return true;
  });
}

std::vector<domain::membership> sqlite_store::members(id organization_id) {
  static const std::string sql = membership_select + "WHERE m.organization_id = ? ORDER BY m.id";
  return read([&](connection& db) { return all_rows(db, sql, membership_at, organization_id); });
}

std::optional<domain::membership> sqlite_store::find_member(id organization_id, id user_id) {
  return read([&](connection& db) { return first_row(db, member_sql, membership_at, organization_id, user_id); });
}

result<domain::membership> sqlite_store::set_role(const role_change& change) {
  return write([&](connection& db) -> result<domain::membership> {
    const auto caller = role_in(db, change.organization_id, change.caller_id);
    if (!caller) return std::unexpected(caller.error());
    const auto target = first_row(db, member_sql, membership_at, change.organization_id, change.member_id);
    if (!target) return fail(errc::member_not_found);
    if (auto allowed = domain::check_role_change(*caller, target->member_role, change.new_role); !allowed)
      return std::unexpected(allowed.error());
    db.prepare("UPDATE memberships SET role = ? WHERE organization_id = ? AND user_id = ?")
        .bind_all(domain::to_string(change.new_role), change.organization_id, change.member_id)
        .step();
    return first_row(db, member_sql, membership_at, change.organization_id, change.member_id).value();
  });
}

result<registration_target> sqlite_store::find_registration_target(id user_id, std::optional<id> organization_id,
                                                                   const std::optional<std::string>& agent_id) {
  // The device's own address first, then the user's; each the earliest allocated.
  static const std::string chosen_sql = columns::registration_select +
                                        "WHERE a.user_id = ?1 AND (?2 IS NULL OR a.organization_id = ?2)"
                                        " AND (a.agent_id = ?3 OR a.agent_id = '')"
                                        " ORDER BY a.agent_id = '', a.id LIMIT 1";
  return read([&](connection& db) -> result<registration_target> {
    if (auto chosen = first_row(db, chosen_sql, registration_at, user_id, organization_id, agent_id.value_or("")))
      return std::move(*chosen);
    auto member = db.prepare("SELECT 1 FROM memberships WHERE user_id = ?1 AND (?2 IS NULL OR organization_id = ?2)");
    if (!member.bind_all(user_id, organization_id).step()) return fail(errc::not_a_member);
    return fail(errc::address_not_found);
  });
}

std::vector<registration_target> sqlite_store::registration_candidates(id user_id, std::size_t limit) {
  static const std::string sql = columns::registration_select + "WHERE a.user_id = ? ORDER BY a.id LIMIT ?";
  return read(
      [&](connection& db) { return all_rows(db, sql, registration_at, user_id, static_cast<std::int64_t>(limit)); });
}

std::optional<std::uint64_t> sqlite_store::local_write_count() const noexcept {
  return committed_writes_.load(std::memory_order_acquire);
}

bool sqlite_store::is_reachable() {
  try {
    if (!health_.ready(writer_)) return false;
    return read([](connection& db) { return db.prepare("SELECT 1").step(); });
  } catch (const store_unavailable&) {
    return false;
  }
}

}  // namespace sig::store::sqlite
