// The records of the domain: users, organizations, memberships, address allocations, invites.
// Plain values; the store fills them and the API turns them into JSON.
#pragma once

#include "core/clock.hpp"
#include "domain/ipv4.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sig::domain {

using id = std::int64_t;

enum class role { owner, admin, member };
enum class join_policy { open, invite };

std::string_view to_string(role r) noexcept;
std::string_view to_string(join_policy p) noexcept;
std::optional<role> parse_role(std::string_view text) noexcept;
std::optional<join_policy> parse_join_policy(std::string_view text) noexcept;

struct user {
  id user_id = 0;
  std::string email;
  std::string password_hash;
  unix_micros created_at = 0;
  // Random, per user, in every token the user is issued; a new one revokes all earlier tokens
  // (logout), and a user whose id is reused after a database reset has another.
  std::string token_stamp;
};

struct organization {
  id organization_id = 0;
  std::string name;
  cidr subnet{0, 0};
  id owner_id = 0;
  join_policy policy = join_policy::open;
  unix_micros created_at = 0;
};

struct membership {
  id organization_id = 0;
  id user_id = 0;
  std::string email;
  role member_role = role::member;
  unix_micros joined_at = 0;
};

/// One virtual IP of an organization. `agent_id` empty means the user's own (default) address;
/// otherwise the address of that device.
struct allocation {
  id organization_id = 0;
  id user_id = 0;
  std::string email;
  std::string agent_id;
  ipv4 address = 0;
  unix_micros allocated_at = 0;
};

struct invite {
  std::string code;  // only known when created; the store keeps a hash
  id organization_id = 0;
  std::int64_t max_uses = 1;
  unix_micros expires_at = 0;
};

}  // namespace sig::domain
