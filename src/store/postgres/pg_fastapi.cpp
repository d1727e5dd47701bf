// PostgreSQL side of an import from the FastAPI server: reading its PostgreSQL database (as
// SQLAlchemy created it), and the import's transaction on this server's PostgreSQL database.
#include "core/random.hpp"
#include "store/fastapi_backends.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/store.hpp"

namespace sig::store::postgres {
namespace {

using namespace fastapi;

// Naive UTC timestamps, in the text form the SQLite source has too.
std::string as_text(std::string_view column) {
  return "to_char(" + std::string(column) + ", 'YYYY-MM-DD HH24:MI:SS.US')";
}

source_database read_rows(pg_connection& db) {
  for (const char* table : {"users", "organizations", "organization_members", "virtual_ips"})
    if (db.run("SELECT to_regclass($1::text) IS NULL", pg_params(table)).boolean(0, 0))
      throw source_error(std::string("not a database of the FastAPI server: it has no table ") + table);
  source_database found;
  const pg_rows users =
      db.run("SELECT id, email, hashed_password, " + as_text("created_at") + " FROM users ORDER BY id");
  for (int i = 0; i < users.size(); ++i)
    found.users.push_back(
        {users.int64(i, 0), users.string(i, 1), users.string(i, 2), parse_naive_utc(users.text(i, 3))});
  const pg_rows organizations =
      db.run("SELECT id, name, subnet, owner_id, " + as_text("created_at") + " FROM organizations ORDER BY id");
  for (int i = 0; i < organizations.size(); ++i)
    found.organizations.push_back({organizations.int64(i, 0), organizations.string(i, 1), organizations.string(i, 2),
                                   organizations.int64(i, 3), parse_naive_utc(organizations.text(i, 4))});
  const pg_rows members = db.run("SELECT id, organization_id, user_id, role, " + as_text("joined_at") +
                                 " FROM organization_members ORDER BY id");
  for (int i = 0; i < members.size(); ++i)
    found.members.push_back({members.int64(i, 0), members.int64(i, 1), members.int64(i, 2), members.string(i, 3),
                             parse_naive_utc(members.text(i, 4))});
  const pg_rows addresses = db.run("SELECT id, organization_id, user_id, virtual_ip, " + as_text("allocated_at") +
                                   " FROM virtual_ips ORDER BY id");
  for (int i = 0; i < addresses.size(); ++i)
    found.addresses.push_back({addresses.int64(i, 0), addresses.int64(i, 1), addresses.int64(i, 2),
                               addresses.string(i, 3), parse_naive_utc(addresses.text(i, 4))});
  return found;
}

class pg_target final : public target_transaction {
 public:
  explicit pg_target(const std::string& conninfo) : db_(conninfo) {
    db_.execute("BEGIN");
    // Other writers (a running server) wait until the import ends; readers go on.
    db_.execute("LOCK TABLE users, organizations, memberships, allocations, released_addresses IN EXCLUSIVE MODE");
  }
  ~pg_target() override {
    if (!open_) return;
    try {
      db_.execute("ROLLBACK");
    } catch (const std::exception&) {
      // The connection is gone: so is the transaction.
    }
  }
  pg_target(const pg_target&) = delete;
  pg_target& operator=(const pg_target&) = delete;

  table_counts counts() override {
    const pg_rows row = db_.run(
        "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM organizations),"
        " (SELECT COUNT(*) FROM memberships), (SELECT COUNT(*) FROM allocations)");
    return {row.int64(0, 0), row.int64(0, 1), row.int64(0, 2), row.int64(0, 3)};
  }

  target_state state() override {
    target_state s;
    const pg_rows users = db_.run("SELECT id, email FROM users");
    for (int i = 0; i < users.size(); ++i) {
      s.user_ids.insert(users.int64(i, 0));
      s.user_by_email.emplace(users.string(i, 1), users.int64(i, 0));
    }
    const pg_rows organizations = db_.run("SELECT id, name, network, prefix, owner_id, created_at FROM organizations");
    for (int i = 0; i < organizations.size(); ++i)
      s.organizations.push_back({organizations.int64(i, 0), organizations.string(i, 1),
                                 domain::cidr(static_cast<domain::ipv4>(organizations.int64(i, 2)),
                                              static_cast<int>(organizations.int64(i, 3))),
                                 organizations.int64(i, 4), organizations.int64(i, 5)});
    const pg_rows members = db_.run("SELECT id, organization_id, user_id FROM memberships");
    for (int i = 0; i < members.size(); ++i) {
      s.membership_ids.insert(members.int64(i, 0));
      s.memberships.emplace(members.int64(i, 1), members.int64(i, 2));
    }
    const pg_rows allocations = db_.run("SELECT id, organization_id, user_id, agent_id, address FROM allocations");
    for (int i = 0; i < allocations.size(); ++i) {
      s.allocation_ids.insert(allocations.int64(i, 0));
      s.address_holders[{allocations.int64(i, 1), static_cast<domain::ipv4>(allocations.int64(i, 4))}] =
          allocations.int64(i, 2);
      if (allocations.text(i, 3).empty()) s.own_addresses.emplace(allocations.int64(i, 1), allocations.int64(i, 2));
    }
    return s;
  }

  void write(const import_plan& plan) override {
    for (const auto& u : plan.users)
      db_.run("INSERT INTO users (id, email, password_hash, created_at, token_stamp) VALUES ($1, $2, $3, $4, $5)",
              pg_params(u.id, u.email, u.password_hash, u.created_at, random_hex(16)));
    for (const auto& o : plan.organizations)
      db_.run(
          "INSERT INTO organizations (id, name, network, prefix, owner_id, join_policy, next_host, created_at)"
          " VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
          pg_params(o.id, o.name, std::int64_t{o.subnet.network()}, o.subnet.prefix(), o.owner_id,
                    std::int64_t{o.next_host}, o.created_at));
    // An identity column takes no NULL: the rows whose id is taken let the database number them.
    for (const auto& m : plan.members)
      db_.run(m.id ? "INSERT INTO memberships (id, organization_id, user_id, role, joined_at)"
                     " VALUES ($5, $1, $2, $3, $4)"
                   : "INSERT INTO memberships (organization_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
              m.id ? pg_params(m.organization_id, m.user_id, m.role, m.joined_at, *m.id)
                   : pg_params(m.organization_id, m.user_id, m.role, m.joined_at));
    for (const auto& a : plan.addresses) {
      if (a.into_existing_organization)  // below its watermark, a free address is listed there
        db_.run("DELETE FROM released_addresses WHERE organization_id = $1 AND address = $2",
                pg_params(a.organization_id, std::int64_t{a.address}));
      db_.run(a.id ? "INSERT INTO allocations (organization_id, user_id, agent_id, address, allocated_at, id)"
                     " VALUES ($1, $2, '', $3, $4, $5)"
                   : "INSERT INTO allocations (organization_id, user_id, agent_id, address, allocated_at)"
                     " VALUES ($1, $2, '', $3, $4)",
              a.id ? pg_params(a.organization_id, a.user_id, std::int64_t{a.address}, a.allocated_at, *a.id)
                   : pg_params(a.organization_id, a.user_id, std::int64_t{a.address}, a.allocated_at));
    }
    // Rows given their id leave the identity sequences behind: the next generated id must be free.
    for (const char* table : {"users", "organizations", "memberships", "allocations"})
      db_.execute(std::string("SELECT setval(pg_get_serial_sequence('") + table + "', 'id'), MAX(id)) FROM " + table +
                  " HAVING MAX(id) IS NOT NULL");
  }

  void commit() override {
    db_.execute("COMMIT");
    open_ = false;
  }

 private:
  pg_connection db_;
  bool open_ = true;
};

}  // namespace

fastapi::source_database read_fastapi_source(const std::string& conninfo) {
  pg_connection db(conninfo);
  try {
    db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");  // the four tables as of one moment
    auto found = read_rows(db);
    db.execute("COMMIT");
    return found;
  } catch (const pg_error& failure) {
    throw source_error(std::string("cannot read the FastAPI server's database: ") + failure.what());
  }
}

std::unique_ptr<fastapi::target_transaction> begin_fastapi_import(const std::string& conninfo) {
  return std::make_unique<pg_target>(conninfo);
}

}  // namespace sig::store::postgres
