// The untimed set-up of a scenario, over REST: users, tokens, organizations, memberships and one
// virtual IP per user, the way bench/lib/common.py prepares "ours".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "context.hpp"

namespace loadgen {

struct account {
  std::string token;
  std::int64_t org = 0;
};

// n users in organizations of org_size (consecutive users; the first creates it, the others
// join), each with one allocation. Users are registered and logged in (password "password123"),
// unless --tokens-file lists tokens of users that exist already (the baseline, whose bcrypt
// /register would take minutes). Organization k gets a subnet of its own, because the baseline
// tells peers apart by subnet. nullopt (with a message) when a step fails.
std::optional<std::vector<account>> set_up(context& ctx, int n, int org_size);

}  // namespace loadgen
