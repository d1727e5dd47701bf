// Input rules of the contract; see validation.hpp.
#include "domain/validation.hpp"

#include "core/utf8.hpp"

#include <algorithm>
#include <cctype>

namespace sig::domain {
namespace {

std::unexpected<violation> reject(std::string msg, std::string type) {
  return std::unexpected(violation{std::move(msg), std::move(type)});
}

std::unexpected<violation> too_short(std::size_t limit) {
  return reject("ensure this value has at least " + std::to_string(limit) + " characters",
                "value_error.any_str.min_length");
}

std::unexpected<violation> too_long(std::size_t limit) {
  return reject("ensure this value has at most " + std::to_string(limit) + " characters",
                "value_error.any_str.max_length");
}

std::unexpected<violation> out_of_range(std::int64_t min, std::int64_t max, std::int64_t value) {
  if (value < min)
    return reject("ensure this value is greater than or equal to " + std::to_string(min), "value_error.number.not_ge");
  return reject("ensure this value is less than or equal to " + std::to_string(max), "value_error.number.not_le");
}

bool is_atext(char c) noexcept {
  static constexpr std::string_view specials = "!#$%&'*+-/=?^_`{|}~";
  return std::isalnum(static_cast<unsigned char>(c)) || specials.find(c) != std::string_view::npos;
}

bool is_dot_atom(std::string_view text) noexcept {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  if (text.find("..") != std::string_view::npos) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '.' || is_atext(c); });
}

bool is_dns_label(std::string_view label) noexcept {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
}

bool is_domain(std::string_view domain) noexcept {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t labels = 0;
  std::string_view last;
  for (std::size_t start = 0;;) {
    const std::size_t dot = domain.find('.', start);
    last = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!is_dns_label(last)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  const bool numeric_tld =
      std::all_of(last.begin(), last.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  return labels >= 2 && !numeric_tld;
}

}  // namespace

checked<std::string> validate_email(std::string_view email) {
  const auto invalid = [] { return reject("value is not a valid email address", "value_error.email"); };
  if (email.size() > limits::email_max) return invalid();
  const std::size_t at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) return invalid();
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);
  if (local.size() > limits::email_local_max || !is_dot_atom(local) || !is_domain(domain)) return invalid();
  std::string normalised(email);
  std::transform(normalised.begin(), normalised.end(), normalised.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return normalised;
}

checked<std::string> validate_password(std::string_view password) {
  const std::size_t length = code_points(password);
  if (length < limits::password_min) return too_short(limits::password_min);
  if (length > limits::password_max) return too_long(limits::password_max);
  return std::string(password);
}

checked<std::string> validate_organization_name(std::string_view name) {
  const std::size_t length = code_points(name);
  if (length < 1) return too_short(1);
  if (length > limits::org_name_max) return too_long(limits::org_name_max);
  if (has_control_characters(name))
    return reject("value must not contain control characters", "value_error.control_characters");
  if (std::all_of(name.begin(), name.end(), [](char c) { return c == ' '; }))
    return reject("value must not be blank", "value_error.blank");
  return std::string(name);
}

namespace {

// Organizations' subnets must be private (RFC 1918) or shared address space (RFC 6598): a VPN
// that hands out public, loopback or multicast addresses would shadow real networks on every
// agent's host (PROTOCOL.md §3).
constexpr cidr private_ranges[] = {
    cidr(0x0A000000, 8),   // 10.0.0.0/8
    cidr(0xAC100000, 12),  // 172.16.0.0/12
    cidr(0xC0A80000, 16),  // 192.168.0.0/16
    cidr(0x64400000, 10),  // 100.64.0.0/10
};

bool is_private_network(const cidr& network) {
  return std::any_of(std::begin(private_ranges), std::end(private_ranges), [&](const cidr& range) {
    return network.prefix() >= range.prefix() && range.contains(network.network());
  });
}

bool has_allowed_prefix(int prefix) {
  return prefix >= limits::subnet_prefix_min && prefix <= limits::subnet_prefix_max;
}

}  // namespace

checked<cidr> validate_subnet(std::string_view subnet) {
  const auto parsed = parse_cidr(subnet);
  if (!parsed && parsed.error() == cidr_error::syntax)
    return reject("value is not a valid IPv4 network", "value_error.ipv4network");
  const auto prefix_refused = [] {
    return reject("prefix length must be between 8 and 30", "value_error.ipv4network.prefix");
  };
  const auto range_refused = [] {
    return reject(
        "subnet must lie inside a private or shared range: 10.0.0.0/8, 172.16.0.0/12, "
        "192.168.0.0/16 or 100.64.0.0/10",
        "value_error.ipv4network.not_private");
  };
  if (!parsed) {
    const std::size_t slash = subnet.find('/');
    const auto address = parse_ipv4(subnet.substr(0, slash));
    const int prefix = std::stoi(std::string(subnet.substr(slash + 1)));
    if (!has_allowed_prefix(prefix)) return prefix_refused();
    const cidr network(*address & cidr(0, prefix).mask(), prefix);
    // Suggest only a network that would itself be accepted.
    if (!is_private_network(network)) return reject("host bits must be zero", "value_error.ipv4network.host_bits");
    return reject("host bits must be zero (did you mean " + network.to_string() + "?)",
                  "value_error.ipv4network.host_bits");
  }
  if (!has_allowed_prefix(parsed->prefix())) return prefix_refused();
  if (!is_private_network(*parsed)) return range_refused();
  return *parsed;
}

checked<join_policy> validate_join_policy(std::string_view policy) {
  if (const auto parsed = parse_join_policy(policy)) return *parsed;
  return reject("value is not a valid enumeration member; permitted: 'open', 'invite'", "type_error.enum");
}

checked<role> validate_assignable_role(std::string_view role_name) {
  const auto parsed = parse_role(role_name);
  if (parsed && *parsed != role::owner) return *parsed;
  return reject("value is not a valid enumeration member; permitted: 'admin', 'member'", "type_error.enum");
}

checked<std::string> validate_agent_id(std::string_view agent_id) {
  const std::size_t length = code_points(agent_id);
  if (length < 1 || length > limits::agent_id_max || has_control_characters(agent_id))
    return reject("agent_id must be 1 to 128 printable characters", "value_error.agent_id");
  return std::string(agent_id);
}

checked<ipv4> validate_ipv4(std::string_view address) {
  if (const auto parsed = parse_ipv4(address)) return *parsed;
  return reject("value is not a valid IPv4 address", "value_error.ipv4address");
}

checked<ipv4> validate_address_in(std::string_view address, const cidr& subnet) {
  const auto parsed = validate_ipv4(address);
  if (!parsed) return parsed;
  if (!subnet.is_host(*parsed))
    return reject("address is not a host address of the organization subnet " + subnet.to_string(),
                  "value_error.ipv4address.outside_subnet");
  return parsed;
}

checked<std::string> validate_endpoint_ip(std::string_view address) {
  if (parse_ipv4(address) || is_ipv6(address)) return std::string(address);
  return reject("value is not a valid IPv4 or IPv6 address", "value_error.ipaddress");
}

checked<std::uint16_t> validate_port(std::int64_t port) {
  if (port < 1 || port > 65535) return out_of_range(1, 65535, port);
  return static_cast<std::uint16_t>(port);
}

checked<std::int64_t> validate_invite_max_uses(std::int64_t max_uses) {
  if (max_uses < 1 || max_uses > limits::invite_max_uses_max)
    return out_of_range(1, limits::invite_max_uses_max, max_uses);
  return max_uses;
}

checked<std::int64_t> validate_invite_expires_in(std::int64_t seconds) {
  if (seconds < limits::invite_expires_in_min || seconds > limits::invite_expires_in_max)
    return out_of_range(limits::invite_expires_in_min, limits::invite_expires_in_max, seconds);
  return seconds;
}

}  // namespace sig::domain
