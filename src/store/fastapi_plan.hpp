// What an import from the FastAPI server writes, decided from the source's rows and the target's
// content as read in the import's transaction: every row checked against this server's rules,
// ids kept where the target has them free, rows of an earlier import recognised and skipped.
// Pure: no database here, so that both backends share one rule.
#pragma once

#include "domain/ipv4.hpp"
#include "store/fastapi_import.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace sig::store::fastapi {

/// The target's rows that the plan must not collide with.
struct target_state {
  struct organization {
    std::int64_t id = 0;
    std::string name;
    domain::cidr subnet{0, 0};
    std::int64_t owner_id = 0;
    unix_micros created_at = 0;
  };
  std::map<std::string, std::int64_t> user_by_email;
  std::set<std::int64_t> user_ids;
  std::vector<organization> organizations;
  std::set<std::pair<std::int64_t, std::int64_t>> memberships;  // (organization, user)
  std::set<std::int64_t> membership_ids;
  std::map<std::pair<std::int64_t, domain::ipv4>, std::int64_t> address_holders;  // (organization, address) -> user
  std::set<std::pair<std::int64_t, std::int64_t>> own_addresses;  // (organization, user) with agent_id ''
  std::set<std::int64_t> allocation_ids;
};

struct planned_user {
  std::int64_t id = 0;
  std::string email;  // lower-cased, as this server stores it
  std::string password_hash;
  unix_micros created_at = 0;
};
struct planned_organization {
  std::int64_t id = 0;
  std::string name;
  domain::cidr subnet{0, 0};
  std::int64_t owner_id = 0;
  unix_micros created_at = 0;
  domain::ipv4 next_host = 0;  // the first host address not imported, counting up from the first
};
struct planned_member {
  std::optional<std::int64_t> id;  // nullopt: taken in the target, the database numbers it
  std::int64_t organization_id = 0;
  std::int64_t user_id = 0;
  std::string role;
  unix_micros joined_at = 0;
};
struct planned_address {
  std::optional<std::int64_t> id;
  std::int64_t organization_id = 0;
  std::int64_t user_id = 0;
  domain::ipv4 address = 0;
  unix_micros allocated_at = 0;
  bool into_existing_organization = false;  // then the address may sit in released_addresses
};

struct import_plan {
  std::vector<planned_user> users;
  std::vector<planned_organization> organizations;
  std::vector<planned_member> members;
  std::vector<planned_address> addresses;
  std::vector<std::string> skipped;
  std::vector<std::string> renumbered;
  std::vector<std::string> problems;  // any: write nothing
};

import_plan plan_import(const source_database& source, const target_state& target);

/// A bcrypt hash as passlib writes it: $2a$, $2b$ or $2y$, a two-digit cost 04-31, 53 characters
/// of bcrypt's base64.
bool is_bcrypt_hash(std::string_view hash) noexcept;

}  // namespace sig::store::fastapi
