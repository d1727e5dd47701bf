// Text forms of roles and join policies, as stored and as shown in JSON.
#include "domain/model.hpp"

namespace sig::domain {

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::owner: return "owner";
    case role::admin: return "admin";
    case role::member: return "member";
  }
  return "member";
}

std::string_view to_string(join_policy p) noexcept { return p == join_policy::invite ? "invite" : "open"; }

std::optional<role> parse_role(std::string_view text) noexcept {
  if (text == "owner") return role::owner;
  if (text == "admin") return role::admin;
  if (text == "member") return role::member;
  return {};
}

std::optional<join_policy> parse_join_policy(std::string_view text) noexcept {
  if (text == "open") return join_policy::open;
  if (text == "invite") return join_policy::invite;
  return {};
}

}  // namespace sig::domain
