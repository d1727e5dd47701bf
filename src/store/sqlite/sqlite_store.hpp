// The embedded SQLite store: one writer connection (writes are serialized in-process, so they
// never spin on SQLite's lock) and a pool of readers working concurrently under WAL.
#pragma once

#include "store/sqlite/connection_pool.hpp"
#include "store/sqlite/database_health.hpp"
#include "store/store.hpp"

#include <atomic>
#include <cstdint>
#include <string>

namespace sig::store::sqlite {

class sqlite_store final : public store {
 public:
  /// Opens or creates the database at `path` and migrates it. Throws store_unavailable.
  sqlite_store(const std::string& path, std::size_t readers);

  result<domain::user> create_user(const new_user& user) override;
  std::optional<domain::user> find_user(id user_id) override;
  std::optional<domain::user> find_user_by_email(std::string_view email) override;
  void update_password_hash(id user_id, std::string_view password_hash) override;
  bool replace_token_stamp(id user_id, std::string_view stamp) override;

  domain::organization create_organization(const new_organization& organization) override;
  std::optional<organization_access> find_organization(id organization_id, id caller) override;
  std::vector<domain::organization> organizations_of(id user_id) override;

  result<domain::membership> join(const join_request& request) override;
  void create_invite(const new_invite& invite) override;
  std::vector<domain::membership> members(id organization_id) override;
  std::optional<domain::membership> find_member(id organization_id, id user_id) override;
  result<removal> remove_member(const member_change& change) override;
  result<domain::membership> set_role(const role_change& change) override;

  result<domain::allocation> allocate(const allocation_request& request) override;
  std::vector<domain::allocation> allocations(id organization_id) override;
  std::optional<domain::allocation> find_allocation(id organization_id, domain::ipv4 address) override;
  std::vector<domain::allocation> allocations_of(id user_id) override;
  result<removal> release(const release_request& request) override;
  result<registration_target> find_registration_target(id user_id, std::optional<id> organization_id,
                                                       const std::optional<std::string>& agent_id) override;
  std::vector<registration_target> registration_candidates(id user_id, std::size_t limit) override;
  std::optional<std::uint64_t> local_write_count() const noexcept override;

  std::vector<domain::user> users() override;
  std::vector<domain::organization> all_organizations() override;
  result<removal> delete_user(id user_id) override;
  result<removal> delete_organization(id organization_id) override;

  bool is_reachable() override;

 private:
  /// Runs f(connection&) inside BEGIN IMMEDIATE ... COMMIT on the writer; rolls back when f
  /// returns an error or throws. Refused while the database file is missing (health_).
  template <class F>
  auto write(F&& f);
  template <class F>
  auto read(F&& f) {
    health_.check_before_read();
    return readers_.with_connection(std::forward<F>(f));
  }

  connection_pool writer_;
  connection_pool readers_;
  database_health health_;  // after the connections: it takes the identity of the file they opened
  // Every write goes through writer_ in this process: the server holds the file's exclusive lock,
  // so no other process writes to it while it runs.
  std::atomic<std::uint64_t> committed_writes_{0};
};

}  // namespace sig::store::sqlite

namespace sig::store::sqlite {

template <class F>
auto sqlite_store::write(F&& f) {
  health_.check_before_write();
  try {
    return writer_.with_connection([&](connection& db) {
      transaction tx(db, transaction::kind::write);
      auto outcome = f(db);
      bool keep = true;
      if constexpr (is_result_v<decltype(outcome)>) keep = outcome.has_value();
      if (keep) {
        tx.commit();
        committed_writes_.fetch_add(1, std::memory_order_release);
      }
      return outcome;
    });
  } catch (const sqlite_error& failure) {
    health_.write_failed(failure);
    throw;
  }
}

}  // namespace sig::store::sqlite
