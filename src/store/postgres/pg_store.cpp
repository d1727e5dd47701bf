// PostgreSQL store: users, organizations, memberships and invites. Addresses are in
// pg_addresses.cpp, the cluster's tables in pg_cluster.cpp.
#include "store/postgres/pg_store.hpp"

#include "domain/permissions.hpp"
#include "store/postgres/pg_migrate.hpp"
#include "store/postgres/pg_records.hpp"

namespace sig::store::postgres {

using namespace records;

namespace {

const std::string member_sql = membership_select + "WHERE m.organization_id = $1 AND m.user_id = $2";

bool violates(const pg_error& e, std::string_view state, std::string_view constraint) {
  return e.sqlstate() == state && e.constraint() == constraint;
}

}  // namespace

pg_store::pg_store(const std::string& conninfo, std::size_t connections)
    : pool_(conninfo, connections), publisher_(conninfo, 1) {
  migrate(pool_);
}

result<domain::user> pg_store::create_user(const new_user& user) {
  return pool_.transact([&](pg_connection& db) -> result<domain::user> {
    try {
      const pg_rows rows = db.run(
          "INSERT INTO users (email, password_hash, created_at, token_stamp) VALUES ($1, $2, $3, $4) RETURNING id",
          pg_params(user.email, user.password_hash, user.created_at, user.token_stamp));
      return domain::user{rows.int64(0, 0), user.email, user.password_hash, user.created_at, user.token_stamp};
    } catch (const pg_error& e) {
      if (violates(e, sqlstate::unique_violation, "users_email_key")) return fail(errc::email_taken);
      throw;
    }
  });
}

std::optional<domain::user> pg_store::find_user(id user_id) {
  static const std::string sql = "SELECT " + columns::user + " FROM users u WHERE u.id = $1";
  return pool_.read([&](pg_connection& db) { return first_row(db, sql, pg_params(user_id), user_at); });
}

std::optional<domain::user> pg_store::find_user_by_email(std::string_view email) {
  static const std::string sql = "SELECT " + columns::user + " FROM users u WHERE u.email = $1";
  return pool_.read([&](pg_connection& db) { return first_row(db, sql, pg_params(email), user_at); });
}

void pg_store::update_password_hash(id user_id, std::string_view password_hash) {
  pool_.read([&](pg_connection& db) {
    return db.run("UPDATE users SET password_hash = $1 WHERE id = $2", pg_params(password_hash, user_id)).affected();
  });
}

bool pg_store::replace_token_stamp(id user_id, std::string_view stamp) {
  return pool_.read([&](pg_connection& db) {
    return db.run("UPDATE users SET token_stamp = $1 WHERE id = $2", pg_params(stamp, user_id)).affected() > 0;
  });
}

domain::organization pg_store::create_organization(const new_organization& o) {
  return pool_.transact([&](pg_connection& db) {
    const id organization_id =
        db.run(
              "INSERT INTO organizations (name, network, prefix, owner_id, join_policy, next_host, created_at)"
              " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
              pg_params(o.name, o.subnet.network(), o.subnet.prefix(), o.owner_id, domain::to_string(o.policy),
                        o.subnet.first_host(), o.created_at))
            .int64(0, 0);
    db.run("INSERT INTO memberships (organization_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
           pg_params(organization_id, o.owner_id, o.created_at));
    return domain::organization{organization_id, o.name, o.subnet, o.owner_id, o.policy, o.created_at};
  });
}

std::optional<organization_access> pg_store::find_organization(id organization_id, id caller) {
  static const std::string sql = "SELECT " + columns::organization +
                                 ", m.role FROM organizations o"
                                 " LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = $1"
                                 " WHERE o.id = $2";
  const auto access_at = [](const pg_rows& rows, int row) {
    return organization_access{organization_at(rows, row), domain::parse_role(rows.text(row, 7))};
  };
  return pool_.read(
      [&](pg_connection& db) { return first_row(db, sql, pg_params(caller, organization_id), access_at); });
}

std::vector<domain::organization> pg_store::organizations_of(id user_id) {
  static const std::string sql = "SELECT " + columns::organization +
                                 " FROM organizations o JOIN memberships m ON m.organization_id = o.id"
                                 " WHERE m.user_id = $1 ORDER BY o.id";
  return pool_.read([&](pg_connection& db) { return all_rows(db, sql, pg_params(user_id), organization_at); });
}

std::vector<domain::user> pg_store::users() {
  static const std::string sql = "SELECT " + columns::user + " FROM users u ORDER BY u.id";
  return pool_.read([&](pg_connection& db) { return all_rows(db, sql, pg_params(), user_at); });
}

std::vector<domain::organization> pg_store::all_organizations() {
  static const std::string sql = "SELECT " + columns::organization + " FROM organizations o ORDER BY o.id";
  return pool_.read([&](pg_connection& db) { return all_rows(db, sql, pg_params(), organization_at); });
}

result<domain::membership> pg_store::join(const join_request& request) {
  return pool_.transact([&](pg_connection& db) -> result<domain::membership> {
    const pg_rows organization =
        db.run("SELECT join_policy FROM organizations WHERE id = $1", pg_params(request.organization_id));
    if (organization.empty()) return fail(errc::organization_not_found);
    const bool invite_only = organization.text(0, 0) == "invite";
    if (!db.run("SELECT 1 FROM memberships WHERE organization_id = $1 AND user_id = $2",
                pg_params(request.organization_id, request.user_id))
             .empty())
      return fail(errc::already_member);
    if (invite_only) {
      if (!request.invite_code_hash) return fail(errc::invite_required);
      const auto used = db.run(
                              "UPDATE invites SET uses = uses + 1"
                              " WHERE code_hash = $1 AND organization_id = $2 AND uses < max_uses AND expires_at > $3",
                              pg_params(*request.invite_code_hash, request.organization_id, request.now))
                            .affected();
      if (used == 0) return fail(errc::invite_invalid);
    }
    try {
      db.run("INSERT INTO memberships (organization_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)",
             pg_params(request.organization_id, request.user_id, request.now));
    } catch (const pg_error& e) {
      // Two joins of the same user at once: the second finds the first's membership.
      if (violates(e, sqlstate::unique_violation, "memberships_member_key")) return fail(errc::already_member);
      throw;
    }
    return first_row(db, member_sql, pg_params(request.organization_id, request.user_id), membership_at).value();
  });
}

void pg_store::create_invite(const new_invite& invite) {
  pool_.transact([&](pg_connection& db) {
    db.run(
        "INSERT INTO invites (organization_id, code_hash, created_by, max_uses, expires_at, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        pg_params(invite.organization_id, invite.code_hash, invite.created_by, invite.max_uses, invite.expires_at,
                  invite.created_at));
    return true;
  });
}

std::vector<domain::membership> pg_store::members(id organization_id) {
  static const std::string sql = membership_select + "WHERE m.organization_id = $1 ORDER BY m.id";
  return pool_.read([&](pg_connection& db) { return all_rows(db, sql, pg_params(organization_id), membership_at); });
}

std::optional<domain::membership> pg_store::find_member(id organization_id, id user_id) {
  return pool_.read(
      [&](pg_connection& db) { return first_row(db, member_sql, pg_params(organization_id, user_id), membership_at); });
}

result<domain::membership> pg_store::set_role(const role_change& change) {
  return pool_.transact([&](pg_connection& db) -> result<domain::membership> {
    const auto caller = lock_organization(db, change.organization_id, change.caller_id);
    if (!caller) return std::unexpected(caller.error());
    const auto target = first_row(db, member_sql, pg_params(change.organization_id, change.member_id), membership_at);
    if (!target) return fail(errc::member_not_found);
    if (auto allowed = domain::check_role_change(*caller, target->member_role, change.new_role); !allowed)
      return std::unexpected(allowed.error());
    db.run("UPDATE memberships SET role = $1 WHERE organization_id = $2 AND user_id = $3",
           pg_params(domain::to_string(change.new_role), change.organization_id, change.member_id));
    return first_row(db, member_sql, pg_params(change.organization_id, change.member_id), membership_at).value();
  });
}

bool pg_store::is_reachable() {
  try {
    return pool_.read([](pg_connection& db) { return db.run("SELECT 1").size() == 1; });
  } catch (const store_unavailable&) {
    return false;
  }
}

}  // namespace sig::store::postgres
