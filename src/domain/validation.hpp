// The input rules of the contract (PROTOCOL.md §2-5), as pure functions. Each returns the accepted,
// normalised value or a violation whose msg/type follow FastAPI/pydantic wording, so that the API
// layer only adds the field's location.
#pragma once

#include "domain/ipv4.hpp"
#include "domain/model.hpp"

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace sig::domain {

struct violation {
  std::string msg;
  std::string type;

  friend bool operator==(const violation&, const violation&) = default;
};

template <class T>
using checked = std::expected<T, violation>;

namespace limits {
inline constexpr std::size_t email_max = 254;
inline constexpr std::size_t email_local_max = 64;
inline constexpr std::size_t password_min = 8;
inline constexpr std::size_t password_max = 128;
inline constexpr std::size_t org_name_max = 100;
inline constexpr int subnet_prefix_min = 8;
inline constexpr int subnet_prefix_max = 30;
inline constexpr std::size_t agent_id_max = 128;
inline constexpr std::int64_t invite_max_uses_max = 1'000'000;
inline constexpr std::int64_t invite_expires_in_min = 60;                 // seconds
inline constexpr std::int64_t invite_expires_in_max = 365LL * 24 * 3600;  // one year
}  // namespace limits

/// Syntactically valid address (ASCII local part of RFC 5322 atoms, DNS domain with a dot);
/// returned lower-cased.
checked<std::string> validate_email(std::string_view email);
checked<std::string> validate_password(std::string_view password);
/// 1-100 characters, not blank, no control characters.
checked<std::string> validate_organization_name(std::string_view name);
/// IPv4 CIDR with prefix 8-30 and zero host bits.
checked<cidr> validate_subnet(std::string_view subnet);
checked<join_policy> validate_join_policy(std::string_view policy);
/// Only "admin" and "member" can be given; "owner" is never assigned.
checked<role> validate_assignable_role(std::string_view role_name);
/// 1-128 printable characters.
checked<std::string> validate_agent_id(std::string_view agent_id);
/// A host address of `subnet` (not its network or broadcast address).
checked<ipv4> validate_address_in(std::string_view address, const cidr& subnet);
checked<ipv4> validate_ipv4(std::string_view address);
/// IPv4 or IPv6 in text form, as STUN or TURN reported it.
checked<std::string> validate_endpoint_ip(std::string_view address);
checked<std::uint16_t> validate_port(std::int64_t port);
checked<std::int64_t> validate_invite_max_uses(std::int64_t max_uses);
checked<std::int64_t> validate_invite_expires_in(std::int64_t seconds);

}  // namespace sig::domain
