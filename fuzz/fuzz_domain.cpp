// Fuzz target for every text parser of domain/ and core/: IPv4 addresses and CIDR blocks, the
// validators of validation.hpp, roles and join policies, strict JSON and UTF-8. One target: the
// first byte of the input picks the parser, the rest is its text, so one corpus and one run cover
// them all. Besides the sanitizers' findings, it checks cheap properties: what a parser accepts
// formats back to the same text (parse(format(x)) == x), a validator's output validates again to
// itself, and two independent UTF-8 checks (ours and Boost.JSON's) agree.
#include "core/json_parse.hpp"
#include "core/utf8.hpp"
#include "domain/ipv4.hpp"
#include "domain/model.hpp"
#include "domain/validation.hpp"
#include "fuzz_check.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace {

namespace domain = sig::domain;

void ipv4_address(std::string_view text) {
  const auto address = domain::parse_ipv4(text);
  if (!address) return;
  // Leading zeros and signs are refused, so an accepted address has exactly one spelling.
  FUZZ_CHECK(domain::format_ipv4(*address) == text, text);
  FUZZ_CHECK(domain::validate_ipv4(text) == *address, text);
  FUZZ_CHECK(domain::validate_endpoint_ip(text).has_value(), text);
  FUZZ_CHECK(!domain::is_ipv6(text), text);  // inet_pton refuses a dotted quad alone
}

void cidr_block(std::string_view text) {
  const auto block = domain::parse_cidr(text);
  if (!block) return;
  FUZZ_CHECK(block->prefix() >= 0 && block->prefix() <= 32, text);
  FUZZ_CHECK((block->network() & ~block->mask()) == 0, text);
  FUZZ_CHECK(block->contains(block->network()) && block->contains(block->broadcast()), text);
  FUZZ_CHECK(block->to_string() == text, text);
  if (block->prefix() < 31) {
    FUZZ_CHECK(block->is_host(block->first_host()) && block->is_host(block->last_host()), text);
    FUZZ_CHECK(block->last_host() - block->first_host() + 1 == block->host_count(), text);
  }
}

void subnet(std::string_view text) {
  const auto accepted = domain::validate_subnet(text);
  if (!accepted) return;
  FUZZ_CHECK(accepted->prefix() >= domain::limits::subnet_prefix_min, text);
  FUZZ_CHECK(accepted->prefix() <= domain::limits::subnet_prefix_max, text);
  FUZZ_CHECK(domain::validate_subnet(accepted->to_string()) == *accepted, text);
}

// "<subnet>|<address>": an address checked against a subnet that the fuzzer also chooses.
void address_in_subnet(std::string_view text) {
  const std::size_t bar = text.find('|');
  if (bar == std::string_view::npos) return;
  const auto block = domain::parse_cidr(text.substr(0, bar));
  if (!block) return;
  const auto address = domain::validate_address_in(text.substr(bar + 1), *block);
  if (!address) return;
  FUZZ_CHECK(block->is_host(*address), text);
  FUZZ_CHECK(*address != block->network() && *address != block->broadcast(), text);
}

void endpoint_ip(std::string_view text) {
  const auto accepted = domain::validate_endpoint_ip(text);
  FUZZ_CHECK(accepted.has_value() == (domain::parse_ipv4(text).has_value() || domain::is_ipv6(text)), text);
  if (accepted) FUZZ_CHECK(*accepted == text, text);
}

void email(std::string_view text) {
  const auto accepted = domain::validate_email(text);
  if (!accepted) return;
  FUZZ_CHECK(accepted->size() == text.size(), text);
  FUZZ_CHECK(domain::validate_email(*accepted) == *accepted, text);  // normalising is idempotent
}

// The validators below count code points, as the contract counts characters: they assume valid
// UTF-8, which the JSON parser guarantees before them. Their properties only hold for such text.
void password(std::string_view text) {
  const auto accepted = domain::validate_password(text);
  if (!accepted || !sig::is_valid_utf8(text)) return;
  FUZZ_CHECK(*accepted == text, text);
  FUZZ_CHECK(sig::code_points(text) >= domain::limits::password_min, text);
  FUZZ_CHECK(sig::code_points(text) <= domain::limits::password_max, text);
}

void organization_name(std::string_view text) {
  const auto accepted = domain::validate_organization_name(text);
  if (!accepted || !sig::is_valid_utf8(text)) return;
  FUZZ_CHECK(*accepted == text && !sig::has_control_characters(text), text);
  FUZZ_CHECK(text.find_first_not_of(' ') != std::string_view::npos, text);
}

void agent_id(std::string_view text) {
  const auto accepted = domain::validate_agent_id(text);
  if (!accepted || !sig::is_valid_utf8(text)) return;
  FUZZ_CHECK(*accepted == text && !sig::has_control_characters(text), text);
  FUZZ_CHECK(sig::code_points(text) >= 1 && sig::code_points(text) <= domain::limits::agent_id_max, text);
}

void role_and_policy(std::string_view text) {
  if (const auto role = domain::parse_role(text)) FUZZ_CHECK(domain::to_string(*role) == text, text);
  if (const auto policy = domain::parse_join_policy(text)) FUZZ_CHECK(domain::to_string(*policy) == text, text);
  if (const auto role = domain::validate_assignable_role(text)) FUZZ_CHECK(*role != domain::role::owner, text);
  FUZZ_CHECK(domain::validate_join_policy(text).has_value() == domain::parse_join_policy(text).has_value(), text);
}

// Eight bytes as one integer, for the numeric validators.
void numbers(std::string_view text) {
  std::int64_t value = 0;
  std::memcpy(&value, text.data(), std::min(text.size(), sizeof value));
  if (const auto port = domain::validate_port(value)) FUZZ_CHECK(*port >= 1 && *port == value, text);
  if (const auto uses = domain::validate_invite_max_uses(value))
    FUZZ_CHECK(*uses >= 1 && *uses <= domain::limits::invite_max_uses_max, text);
  if (const auto seconds = domain::validate_invite_expires_in(value))
    FUZZ_CHECK(*seconds >= domain::limits::invite_expires_in_min && *seconds <= domain::limits::invite_expires_in_max,
               text);
}

// Equal JSON values, where doubles may differ in their last bits: Boost.JSON 1.81 parses numbers
// with more digits than a double holds, or large exponents, without correct rounding, so the
// shortest text of a parsed double does not always parse back to the same bits.
bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return x == y || std::abs(x - y) <= 1e-15 * std::max(std::abs(x), std::abs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) return std::ranges::equal(a.get_array(), b.get_array(), same_json);
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    return x.size() == y.size() && std::all_of(x.begin(), x.end(), [&](const auto& member) {
             const boost::json::value* other = y.if_contains(member.key());
             return other && same_json(member.value(), *other);
           });
  }
  return a == b;
}

void json(std::string_view text) {
  const auto parsed = sig::parse_json(text);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().offset <= text.size(), text);
    return;
  }
  FUZZ_CHECK(sig::is_valid_utf8(text), text);
  // What we accept, serialized, is accepted again as the same value.
  const std::string again = boost::json::serialize(*parsed);
  const auto reparsed = sig::parse_json(again);
  FUZZ_CHECK(reparsed.has_value(), again);
  FUZZ_CHECK(same_json(*reparsed, *parsed), again);
}

void utf8(std::string_view text) {
  const bool valid = sig::is_valid_utf8(text);
  if (valid) {
    FUZZ_CHECK(sig::code_points(text) <= text.size(), text);
    (void)sig::has_control_characters(text);
  }
  // Boost.JSON validates the UTF-8 of strings independently: inside quotes, text without quotes,
  // backslashes and control bytes is accepted exactly when it is valid UTF-8.
  const bool plain =
      text.find_first_of("\"\\") == std::string_view::npos &&
      std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
  if (plain) {
    const auto quoted = sig::parse_json("\"" + std::string(text) + "\"");
    FUZZ_CHECK(quoted.has_value() == valid, text);
    if (quoted) FUZZ_CHECK(quoted->as_string() == text, text);
  }
}

using parser_fn = void (*)(std::string_view);
constexpr parser_fn parsers[] = {ipv4_address, cidr_block,        subnet,   address_in_subnet, endpoint_ip, email,
                                 password,     organization_name, agent_id, role_and_policy,   numbers,     json,
                                 utf8};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const parser_fn parse = parsers[data[0] % std::size(parsers)];
  parse(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
