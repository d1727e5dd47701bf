// The PostgreSQL store: the system of record of a cluster. A bounded pool of connections serves
// the store's calls, each one transaction in which the database enforces every rule (row locks,
// constraints), so that any number of server processes can share it. One more connection, the
// publisher, carries this process's presence writes and notifications (cluster_store).
#pragma once

#include "store/cluster_store.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/store.hpp"

#include <string>

namespace sig::store::postgres {

class pg_store final : public store, public cluster_store {
 public:
  /// Connects with `conninfo` (a libpq URI), migrates, and keeps up to `connections` connections.
  /// Throws store_unavailable.
  pg_store(const std::string& conninfo, std::size_t connections);

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
  std::optional<std::uint64_t> local_write_count() const noexcept override { return std::nullopt; }

  std::vector<domain::user> users() override;
  std::vector<domain::organization> all_organizations() override;
  result<removal> delete_user(id user_id) override;
  result<removal> delete_organization(id organization_id) override;

  bool is_reachable() override;
  cluster_store* cluster() noexcept override { return this; }

  // cluster_store (pg_cluster.cpp)
  std::string channel_prefix() override;
  std::unique_ptr<notification_listener> listen(const std::vector<std::string>& channels) override;
  domain::process_id join_cluster(std::string_view name) override;
  bool heartbeat(domain::process_id self, std::string_view name) override;
  std::vector<domain::peer_info> reap(domain::process_id self, std::chrono::milliseconds dead_after,
                                      const removal_announcer& announce) override;
  std::vector<result<claimed_presence>> publish(const presence_batch& batch, const claim_announcer& announce) override;
  void leave_cluster(domain::process_id self, const removal_announcer& announce) override;
  std::vector<domain::peer_info> online_peers(id organization_id) override;
  std::string shared_setting(std::string_view name, std::string_view proposed) override;
  void replace_shared_setting(std::string_view name, std::string_view value) override;

 private:
  pg_pool pool_;
  pg_pool publisher_;  // one connection: this process's presence writes, in order
};

}  // namespace sig::store::postgres
