// SQLite side of an import from the FastAPI server: reading its SQLite database (as SQLAlchemy
// created it), and the import's transaction on this server's SQLite database.
#include "core/random.hpp"
#include "store/fastapi_backends.hpp"
#include "store/sqlite/connection.hpp"

#include <filesystem>

namespace sig::store::sqlite {
namespace {

using namespace fastapi;

const char* const fastapi_tables[] = {"users", "organizations", "organization_members", "virtual_ips"};

source_database read_rows(connection& db) {
  for (const char* table : fastapi_tables)
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
             .bind_all(std::string(table))
             .step())
      throw source_error(std::string("not a database of the FastAPI server: it has no table ") + table);
  source_database found;
  // SQLAlchemy stores a DateTime as text, "2026-12-02 15:04:05.123456".
  for (auto row = db.prepare("SELECT id, email, hashed_password, created_at FROM users ORDER BY id"); row.step();)
    found.users.push_back({row.int64_at(0), row.text_at(1), row.text_at(2), parse_naive_utc(row.text_at(3))});
  for (auto row = db.prepare("SELECT id, name, subnet, owner_id, created_at FROM organizations ORDER BY id");
       row.step();)
    found.organizations.push_back(
        {row.int64_at(0), row.text_at(1), row.text_at(2), row.int64_at(3), parse_naive_utc(row.text_at(4))});
  for (auto row =
           db.prepare("SELECT id, organization_id, user_id, role, joined_at FROM organization_members ORDER BY id");
       row.step();)
    found.members.push_back(
        {row.int64_at(0), row.int64_at(1), row.int64_at(2), row.text_at(3), parse_naive_utc(row.text_at(4))});
  for (auto row =
           db.prepare("SELECT id, organization_id, user_id, virtual_ip, allocated_at FROM virtual_ips ORDER BY id");
       row.step();)
    found.addresses.push_back(
        {row.int64_at(0), row.int64_at(1), row.int64_at(2), row.text_at(3), parse_naive_utc(row.text_at(4))});
  return found;
}

class sqlite_target final : public target_transaction {
 public:
  explicit sqlite_target(const std::string& path) : db_(path), tx_(db_, transaction::kind::write) {}

  table_counts counts() override {
    auto row = db_.prepare(
        "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM organizations),"
        " (SELECT COUNT(*) FROM memberships), (SELECT COUNT(*) FROM allocations)");
    row.step();
    return {row.int64_at(0), row.int64_at(1), row.int64_at(2), row.int64_at(3)};
  }

  target_state state() override {
    target_state s;
    for (auto row = db_.prepare("SELECT id, email FROM users"); row.step();) {
      s.user_ids.insert(row.int64_at(0));
      s.user_by_email.emplace(row.text_at(1), row.int64_at(0));
    }
    for (auto row = db_.prepare("SELECT id, name, network, prefix, owner_id, created_at FROM organizations");
         row.step();)
      s.organizations.push_back(
          {row.int64_at(0), row.text_at(1),
           domain::cidr(static_cast<domain::ipv4>(row.int64_at(2)), static_cast<int>(row.int64_at(3))), row.int64_at(4),
           row.int64_at(5)});
    for (auto row = db_.prepare("SELECT id, organization_id, user_id FROM memberships"); row.step();) {
      s.membership_ids.insert(row.int64_at(0));
      s.memberships.emplace(row.int64_at(1), row.int64_at(2));
    }
    for (auto row = db_.prepare("SELECT id, organization_id, user_id, agent_id, address FROM allocations");
         row.step();) {
      s.allocation_ids.insert(row.int64_at(0));
      s.address_holders[{row.int64_at(1), static_cast<domain::ipv4>(row.int64_at(4))}] = row.int64_at(2);
      if (row.text_at(3).empty()) s.own_addresses.emplace(row.int64_at(1), row.int64_at(2));
    }
    return s;
  }

  void write(const import_plan& plan) override {
    try {
      for (const auto& u : plan.users)
        db_.prepare("INSERT INTO users (id, email, password_hash, created_at, token_stamp) VALUES (?, ?, ?, ?, ?)")
            .bind_all(u.id, u.email, u.password_hash, u.created_at, random_hex(16))
            .step();
      for (const auto& o : plan.organizations)
        db_.prepare(
               "INSERT INTO organizations (id, name, network, prefix, owner_id, join_policy, next_host, created_at)"
               " VALUES (?, ?, ?, ?, ?, 'open', ?, ?)")
            .bind_all(o.id, o.name, std::int64_t{o.subnet.network()}, std::int64_t{o.subnet.prefix()}, o.owner_id,
                      std::int64_t{o.next_host}, o.created_at)
            .step();
      for (const auto& m : plan.members)
        db_.prepare("INSERT INTO memberships (id, organization_id, user_id, role, joined_at) VALUES (?, ?, ?, ?, ?)")
            .bind_all(m.id, m.organization_id, m.user_id, m.role, m.joined_at)
            .step();
      for (const auto& a : plan.addresses) {
        if (a.into_existing_organization)  // below its watermark, a free address is listed there
          db_.prepare("DELETE FROM released_addresses WHERE organization_id = ? AND address = ?")
              .bind_all(a.organization_id, std::int64_t{a.address})
              .step();
        db_.prepare(
               "INSERT INTO allocations (id, organization_id, user_id, agent_id, address, allocated_at)"
               " VALUES (?, ?, ?, '', ?, ?)")
            .bind_all(a.id, a.organization_id, a.user_id, std::int64_t{a.address}, a.allocated_at)
            .step();
      }
    } catch (const constraint_violation& failure) {
      // The plan was made in this transaction: only a schema this server does not know gets here.
      throw store_unavailable("import: a constraint of the target failed (SQLite code " +
                              std::to_string(failure.extended_code) + ")");
    }
  }

  void commit() override { tx_.commit(); }

 private:
  connection db_;
  transaction tx_;
};

}  // namespace

fastapi::source_database read_fastapi_source(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw source_error("no database file " + path);
  try {
    connection db(path, connection::read_only_t{});
    transaction snapshot(db, transaction::kind::read);  // the four tables as of one moment
    return read_rows(db);
  } catch (const sqlite_error& failure) {
    throw source_error(std::string("cannot read ") + path + " as the FastAPI server's database: " + failure.what());
  }
}

std::unique_ptr<fastapi::target_transaction> begin_fastapi_import(const std::string& path) {
  return std::make_unique<sqlite_target>(path);
}

}  // namespace sig::store::sqlite
