// The system of record behind one interface, so that SQLite (default) and PostgreSQL (cluster)
// are interchangeable. Every call is one transaction and blocks: call it from the database worker
// pool, never from an I/O thread. Implementations are thread-safe.
//
// Every rule that guards a change (membership, roles, who may release what) is checked inside the
// transaction that makes the change, so that no concurrent request, in this process or another,
// can slip between the check and the write.
//
// Expected failures come back as result<> values with the errc the contract names; a broken
// database throws store_unavailable.
#pragma once

#include "core/error.hpp"
#include "domain/model.hpp"
#include "domain/presence.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sig::store {

using domain::id;

/// The database cannot be reached or answered with an unexpected error.
class store_unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct new_user {
  std::string email;  // already normalised
  std::string password_hash;
  unix_micros created_at = 0;
  std::string token_stamp;
};

struct new_organization {
  std::string name;
  domain::cidr subnet{0, 0};
  domain::join_policy policy = domain::join_policy::open;
  id owner_id = 0;
  unix_micros created_at = 0;
};

/// An organization as seen by one user: the caller's role if a member.
struct organization_access {
  domain::organization organization;
  std::optional<domain::role> caller_role;
};

struct join_request {
  id organization_id = 0;
  id user_id = 0;
  std::optional<std::string> invite_code_hash;  // for invite-only organizations
  unix_micros now = 0;
};

struct new_invite {
  id organization_id = 0;
  id created_by = 0;
  std::string code_hash;
  std::int64_t max_uses = 1;
  unix_micros expires_at = 0;
  unix_micros created_at = 0;
};

struct allocation_request {
  id organization_id = 0;
  id user_id = 0;
  std::string agent_id;                 // empty: the user's own address
  std::optional<domain::ipv4> address;  // a specific address, already checked to be a host
  unix_micros now = 0;
  std::int64_t member_quota = 0;  // domain::check_address_quota, checked with the allocation
};

/// A removal or role change asked for by `caller_id`, about `member_id`.
struct member_change {
  id organization_id = 0;
  id caller_id = 0;
  id member_id = 0;
  // The administration commands set it: they run beside the server processes of a PostgreSQL
  // database but cannot close their sessions, so they refuse (errc::peer_online) rather than end
  // a registration that the database shows online. (A SQLite database is locked by its server.)
  bool refuse_online = false;
};

struct role_change {
  id organization_id = 0;
  id caller_id = 0;
  id member_id = 0;
  domain::role new_role = domain::role::member;
};

struct release_request {
  id organization_id = 0;
  id caller_id = 0;
  domain::ipv4 address = 0;
  bool refuse_online = false;  // as in member_change
};

/// What a removal or release ended: the addresses it freed, and the registrations that were
/// online on them and must now be closed and announced offline.
struct removal {
  std::vector<domain::allocation> released;
  std::vector<domain::ended_presence> went_offline;
};

/// Where an agent's WebSocket registration lands (PROTOCOL.md §5.2).
struct registration_target {
  domain::organization organization;
  domain::allocation allocation;
};

class cluster_store;

class store {
 public:
  virtual ~store() = default;

  /// errc::email_taken when the email is registered already.
  virtual result<domain::user> create_user(const new_user& user) = 0;
  virtual std::optional<domain::user> find_user(id user_id) = 0;
  virtual std::optional<domain::user> find_user_by_email(std::string_view email) = 0;
  virtual void update_password_hash(id user_id, std::string_view password_hash) = 0;
  /// Replaces the user's token stamp, which revokes every token issued before. False when the
  /// user does not exist.
  virtual bool replace_token_stamp(id user_id, std::string_view stamp) = 0;

  /// Creates the organization and makes the owner its first member, atomically.
  virtual domain::organization create_organization(const new_organization& organization) = 0;
  virtual std::optional<organization_access> find_organization(id organization_id, id caller) = 0;
  /// The caller's organizations, oldest first.
  virtual std::vector<domain::organization> organizations_of(id user_id) = 0;

  /// errc::organization_not_found, already_member, invite_required, invite_invalid. An invite use
  /// is counted in the same transaction as the membership.
  virtual result<domain::membership> join(const join_request& request) = 0;
  virtual void create_invite(const new_invite& invite) = 0;
  /// Members in join order.
  virtual std::vector<domain::membership> members(id organization_id) = 0;
  virtual std::optional<domain::membership> find_member(id organization_id, id user_id) = 0;
  /// Removal by the owner or an admin, or leaving (caller == member), under domain::
  /// check_member_removal; releases the member's addresses. errc::organization_not_found,
  /// not_a_member (the caller), member_not_found, forbidden, owner_cannot_leave.
  virtual result<removal> remove_member(const member_change& change) = 0;
  /// Under domain::check_role_change. errc::organization_not_found, not_a_member,
  /// member_not_found, forbidden, owner_role_fixed.
  virtual result<domain::membership> set_role(const role_change& change) = 0;

  /// The caller's address for (organization, agent_id): the existing one, else the requested or
  /// lowest free host address. errc::subnet_full, address_taken, device_has_address,
  /// not_a_member.
  virtual result<domain::allocation> allocate(const allocation_request& request) = 0;
  /// Addresses of an organization, lowest first.
  virtual std::vector<domain::allocation> allocations(id organization_id) = 0;
  virtual std::optional<domain::allocation> find_allocation(id organization_id, domain::ipv4 address) = 0;
  /// Addresses of a user across organizations, oldest allocation first.
  virtual std::vector<domain::allocation> allocations_of(id user_id) = 0;
  /// By the holder, the owner or an admin (domain::check_address_release). Returns the released
  /// allocation in `released`. errc::organization_not_found, not_a_member, address_not_found,
  /// forbidden.
  virtual result<removal> release(const release_request& request) = 0;

  /// The caller's address for an agent: with `organization_id`, its allocation there for
  /// `agent_id` if one exists, else its own; without, the same rule over all its organizations,
  /// earliest allocation first. errc::not_a_member when the caller belongs to no organization
  /// (or not to the one named), errc::address_not_found when no allocation fits.
  virtual result<registration_target> find_registration_target(id user_id, std::optional<id> organization_id,
                                                               const std::optional<std::string>& agent_id) = 0;
  /// Every allocation of the user with its organization, oldest first, at most `limit` of them:
  /// what find_registration_target chooses from (choose_registration_target, in
  /// registration_candidates.hpp, makes the same choice in memory).
  virtual std::vector<registration_target> registration_candidates(id user_id, std::size_t limit) = 0;
  /// How many write transactions this store has committed, for a reader to tell whether what it
  /// read is still current. nullopt when other processes write to the same database (PostgreSQL),
  /// so that nothing read earlier can be known current.
  virtual std::optional<std::uint64_t> local_write_count() const noexcept = 0;

  /// Administration (signaling-server users|orgs ...): what no REST caller may see or do.
  /// Every user, by id.
  virtual std::vector<domain::user> users() = 0;
  /// Every organization, by id.
  virtual std::vector<domain::organization> all_organizations() = 0;
  /// Deletes a user who owns no organization (errc::forbidden otherwise, naming them), with their
  /// memberships, addresses (freed) and invites. errc::not_found; errc::peer_online when the
  /// database shows one of their addresses online (PostgreSQL).
  virtual result<removal> delete_user(id user_id) = 0;
  /// Deletes an organization with its members, addresses and invites. errc::organization_not_found;
  /// errc::peer_online as delete_user.
  virtual result<removal> delete_organization(id organization_id) = 0;

  /// Readiness: the database answers a trivial query.
  virtual bool is_reachable() = 0;

  /// What several server processes share through this database (PostgreSQL); nullptr when the
  /// store can serve a single process only (SQLite).
  virtual cluster_store* cluster() noexcept { return nullptr; }
};

}  // namespace sig::store
