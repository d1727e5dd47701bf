// domain/validation: every input rule of the contract as a table of accepted and refused values,
// with the exact FastAPI/pydantic msg and type strings the API layer forwards.
#include "domain/validation.hpp"

#include "table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;
using namespace sig::domain;
using table_test::for_each_row;

std::string repeat(std::string_view piece, std::size_t times) {
  std::string text;
  for (std::size_t i = 0; i < times; ++i) text += piece;
  return text;
}

// An input and whether the rule accepts it (unchanged).
struct text_case {
  std::string input;
  bool accepted;

  friend void PrintTo(const text_case& c, std::ostream* out) {
    *out << testing::PrintToString(c.input) << (c.accepted ? " (accepted)" : " (refused)");
  }
};

// An input and the violation it causes; an empty msg means accepted.
struct rule_case {
  std::string input;
  violation expected;

  friend void PrintTo(const rule_case& c, std::ostream* out) { *out << testing::PrintToString(c.input); }
};

const violation accepted{};

// ---------------------------------------------------------------------------------------------
// Email

// 254 characters in all: a 64-character local part, "@", and a 189-character domain.
const std::string domain_189 = repeat("a", 63) + "." + repeat("b", 63) + "." + repeat("c", 61);
const std::string email_254 = repeat("x", 64) + "@" + domain_189;

TEST(Email, BoundaryInputsHaveTheLengthsTheTablesClaim) {
  EXPECT_EQ(email_254.size(), 254u);
  EXPECT_EQ(domain_189.size(), 189u);
}

struct email_case {
  std::string input;
  std::string normalised;

  friend void PrintTo(const email_case& c, std::ostream* out) { *out << testing::PrintToString(c.input); }
};

TEST(Email, ValidAddressesAreAcceptedLowerCased) {
  const std::vector<email_case> table{
      {"user@example.com", "user@example.com"},
      {"User@Example.COM", "user@example.com"},
      {"ALICE.SMITH@MAIL.EXAMPLE.ORG", "alice.smith@mail.example.org"},
      {"first.last@sub.example.org", "first.last@sub.example.org"},
      {"a+tag@example.io", "a+tag@example.io"},
      {"x@a.co", "x@a.co"},
      {"o'neil@example.com", "o'neil@example.com"},
      {"user_name-1@my-domain.example", "user_name-1@my-domain.example"},
      {"!#$%&'*+-/=?^_`{|}~@example.com", "!#$%&'*+-/=?^_`{|}~@example.com"},
      {"1@example.com", "1@example.com"},
      {"user@xn--bcher-kva.example", "user@xn--bcher-kva.example"},
      {"user@123.example.com", "user@123.example.com"},  // numeric labels are fine below the TLD
      {"user@example.c0m", "user@example.c0m"},
      {repeat("l", 64) + "@example.com", repeat("l", 64) + "@example.com"},  // local part of 64
      {"u@" + repeat("d", 63) + ".com", "u@" + repeat("d", 63) + ".com"},    // label of 63
      {email_254, email_254},                                                // 254 in all
  };
  for_each_row(table, [](const email_case& row) {
    const auto checked = validate_email(row.input);
    ASSERT_TRUE(checked.has_value()) << checked.error().msg;
    EXPECT_EQ(*checked, row.normalised);
  });
}

TEST(Email, InvalidAddressesAreRefused) {
  // clang-format off
  const std::vector<std::string> table{
      // 255 characters; a local part of 65
      email_254 + "c", repeat("x", 64) + "@" + repeat("a", 63) + "." + repeat("b", 63) + "." + repeat("c", 62),
      repeat("l", 65) + "@example.com",
      // missing or several @
      ""s, "plainaddress"s, "@example.com"s, "user@"s, "@"s, "user@@example.com"s, "a@b@example.com"s,
      "user@example.com@"s,
      // dots in the local part
      ".user@example.com"s, "user.@example.com"s, "us..er@example.com"s, ".@example.com"s,
      // bad domain labels
      "user@example"s, "user@.example.com"s, "user@example..com"s, "user@example.com."s, "user@-example.com"s,
      "user@example-.com"s, "user@exa_mple.com"s, "user@exam ple.com"s, "user@" + repeat("d", 64) + ".com",
      "user@[127.0.0.1]"s, "user@ex\xc3\xa4mple.com"s, "user@.com"s,
      // numeric top-level domain
      "user@example.123"s, "user@1.2.3.4"s, "user@example.1"s,
      // characters outside RFC 5322 atoms
      "us er@example.com"s, " user@example.com"s, "user@example.com "s, "user\n@example.com"s,
      "us\xc3\xa9r@example.com"s, "\"quoted\"@example.com"s, "user(comment)@example.com"s, "a,b@example.com"s,
      "a;b@example.com"s, "a\\b@example.com"s, "us\0er@example.com"s,
  };
  // clang-format on
  for_each_row(table, [](const std::string& input) {
    const auto checked = validate_email(input);
    ASSERT_FALSE(checked.has_value()) << "accepted as " << *checked;
    EXPECT_EQ(checked.error(), (violation{"value is not a valid email address", "value_error.email"}));
  });
}

// ---------------------------------------------------------------------------------------------
// Password: 8 to 128 characters, counted in code points.

const violation password_short{"ensure this value has at least 8 characters", "value_error.any_str.min_length"};
const violation password_long{"ensure this value has at most 128 characters", "value_error.any_str.max_length"};

TEST(Password, LengthIsCountedInCodePoints) {
  const std::string e_acute = "\xc3\xa9";        // 2 bytes
  const std::string nichi = "\xe6\x97\xa5";      // 3 bytes
  const std::string emoji = "\xf0\x9f\x98\x80";  // 4 bytes
  const std::vector<rule_case> table{
      {"", password_short},
      {repeat("a", 7), password_short},
      {repeat("a", 8), accepted},
      {repeat("a", 128), accepted},
      {repeat("a", 129), password_long},
      {repeat(e_acute, 7), password_short},  // 14 bytes
      {repeat(e_acute, 8), accepted},        // 16 bytes
      {repeat(nichi, 8), accepted},
      {repeat(emoji, 8), accepted},  // 32 bytes
      {repeat(emoji, 7), password_short},
      {repeat(nichi, 128), accepted},  // 384 bytes
      {repeat(nichi, 129), password_long},
      {repeat(e_acute, 100) + repeat("a", 28), accepted},
      {repeat(e_acute, 100) + repeat("a", 29), password_long},
      {"  pass word  ", accepted},  // never trimmed
  };
  for_each_row(table, [](const rule_case& row) {
    const auto checked = validate_password(row.input);
    if (row.expected == accepted) {
      ASSERT_TRUE(checked.has_value()) << checked.error().msg;
      EXPECT_EQ(*checked, row.input);
    } else {
      ASSERT_FALSE(checked.has_value());
      EXPECT_EQ(checked.error(), row.expected);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Organization name: 1 to 100 characters, not blank, no control characters.

TEST(OrganizationName, FollowsTheRule) {
  const violation empty{"ensure this value has at least 1 characters", "value_error.any_str.min_length"};
  const violation too_long{"ensure this value has at most 100 characters", "value_error.any_str.max_length"};
  const violation blank{"value must not be blank", "value_error.blank"};
  const violation control{"value must not contain control characters", "value_error.control_characters"};
  const std::vector<rule_case> table{
      {"A", accepted},
      {"Acme Corp", accepted},
      {"  padded  ", accepted},
      {repeat("n", 100), accepted},
      {repeat("\xc3\xa9", 100), accepted},
      {repeat("\xf0\x9f\x98\x80", 100), accepted},
      {"Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", accepted},
      {"", empty},
      {repeat("n", 101), too_long},
      {repeat("\xc3\xa9", 101), too_long},
      {" ", blank},
      {"     ", blank},
      {"Acme\x01", control},
      {"Acme\n", control},
      {"\tAcme", control},
      {"Ac\rme", control},
      {"Acme\x7f", control},
      {"Acme\x1b[31m", control},
      {"Acme\0Corp"s, control},
      {"Acme\xc2\x85", control},             // U+0085 (C1)
      {"Acme\xc2\x9f", control},             // U+009F (C1)
      {"evil\xe2\x80\xaegpj.exe", control},  // U+202E RIGHT-TO-LEFT OVERRIDE
      {"evil\xe2\x80\xaa", control},         // U+202A
      {"evil\xe2\x81\xa6", control},         // U+2066
      {"evil\xe2\x81\xa9", control},         // U+2069
  };
  for_each_row(table, [](const rule_case& row) {
    const auto checked = validate_organization_name(row.input);
    if (row.expected == accepted) {
      ASSERT_TRUE(checked.has_value()) << checked.error().msg;
      EXPECT_EQ(*checked, row.input);
    } else {
      ASSERT_FALSE(checked.has_value());
      EXPECT_EQ(checked.error(), row.expected);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Subnet: IPv4 CIDR, prefix 8-30, host bits zero, inside a private or shared range.

violation host_bits(std::string_view suggestion) {
  return {"host bits must be zero (did you mean " + std::string(suggestion) + "?)",
          "value_error.ipv4network.host_bits"};
}

TEST(Subnet, FollowsTheRule) {
  const violation syntax{"value is not a valid IPv4 network", "value_error.ipv4network"};
  const violation prefix{"prefix length must be between 8 and 30", "value_error.ipv4network.prefix"};
  const violation not_private{
      "subnet must lie inside a private or shared range: 10.0.0.0/8, 172.16.0.0/12, "
      "192.168.0.0/16 or 100.64.0.0/10",
      "value_error.ipv4network.not_private"};
  const violation host_bits_public{"host bits must be zero", "value_error.ipv4network.host_bits"};
  const std::vector<rule_case> table{
      {"10.0.0.0/8", accepted},
      {"10.0.0.0/30", accepted},
      {"10.0.0.4/30", accepted},
      {"192.168.1.0/24", accepted},
      {"172.16.0.0/12", accepted},
      {"100.64.0.0/10", accepted},
      {"10.8.0.0/16", accepted},
      {"10.0.0.0/7", prefix},
      {"10.0.0.0/31", prefix},
      {"10.0.0.0/32", prefix},
      {"0.0.0.0/0", prefix},
      {"128.0.0.0/1", prefix},
      {"10.0.0.5/24", host_bits("10.0.0.0/24")},
      {"10.0.0.1/30", host_bits("10.0.0.0/30")},
      {"10.0.0.7/30", host_bits("10.0.0.4/30")},
      {"10.1.2.3/8", host_bits("10.0.0.0/8")},
      {"192.168.1.255/16", host_bits("192.168.0.0/16")},
      {"", syntax},
      {"garbage", syntax},
      {"10.0.0.0", syntax},
      {"10.0.0.0/", syntax},
      {"10.0.0.0/33", syntax},
      {"1.2.3.4/33", syntax},
      {"10.0.0.0/abc", syntax},
      {"10.0.0/24", syntax},
      {"10.0.0.0/024", syntax},
      {" 10.0.0.0/24", syntax},
      {"10.0.0.0/24 ", syntax},
      {"10.0.0.0/-24", syntax},
      {"::/64", syntax},
      {"10.0.0.256/24", syntax},
      {"010.0.0.0/24", syntax},
      {"/24", syntax},
      {"10.0.0.0/24/24", syntax},
      // Only RFC 1918 and RFC 6598 space: no loopback, multicast, "this network" or public space.
      {"127.0.0.0/8", not_private},
      {"127.0.0.0/24", not_private},
      {"224.0.0.0/24", not_private},
      {"0.0.0.0/8", not_private},
      {"8.8.8.0/24", not_private},
      {"169.254.0.0/16", not_private},
      {"255.255.255.0/24", not_private},
      {"172.0.0.0/8", not_private},
      {"172.32.0.0/16", not_private},
      {"192.0.0.0/8", not_private},
      {"100.0.0.0/8", not_private},
      {"100.128.0.0/10", not_private},
      {"172.31.255.252/30", accepted},
      {"100.127.0.0/16", accepted},
      {"192.168.255.0/24", accepted},
      // A suggestion is only made when it would itself be accepted.
      {"10.0.0.0/0", prefix},
      {"10.0.0.1/7", prefix},
      {"127.0.0.1/8", host_bits_public},
      {"172.16.0.1/12", host_bits("172.16.0.0/12")},
  };
  for_each_row(table, [](const rule_case& row) {
    const auto checked = validate_subnet(row.input);
    if (row.expected == accepted) {
      ASSERT_TRUE(checked.has_value()) << checked.error().msg;
      EXPECT_EQ(checked->to_string(), row.input);
    } else {
      ASSERT_FALSE(checked.has_value());
      EXPECT_EQ(checked.error(), row.expected);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Join policy and assignable role

TEST(JoinPolicy, AcceptsOpenAndInviteOnly) {
  EXPECT_EQ(validate_join_policy("open"), join_policy::open);
  EXPECT_EQ(validate_join_policy("invite"), join_policy::invite);
  const std::string_view refused[] = {
      ""sv, "Open"sv, "OPEN"sv, "closed"sv, "invite "sv, " open"sv, "invite-only"sv, "opened"sv, "open\0"sv,
  };
  for_each_row(refused, [](std::string_view input) {
    const auto checked = validate_join_policy(input);
    ASSERT_FALSE(checked.has_value());
    EXPECT_EQ(checked.error(),
              (violation{"value is not a valid enumeration member; permitted: 'open', 'invite'", "type_error.enum"}));
  });
}

TEST(AssignableRole, AcceptsAdminAndMemberButNeverOwner) {
  EXPECT_EQ(validate_assignable_role("admin"), role::admin);
  EXPECT_EQ(validate_assignable_role("member"), role::member);
  const std::string_view refused[] = {"owner"sv, ""sv, "Admin"sv, "MEMBER"sv, "superuser"sv, "member "sv, "root"sv};
  for_each_row(refused, [](std::string_view input) {
    const auto checked = validate_assignable_role(input);
    ASSERT_FALSE(checked.has_value());
    EXPECT_EQ(checked.error(),
              (violation{"value is not a valid enumeration member; permitted: 'admin', 'member'", "type_error.enum"}));
  });
}

TEST(RoleAndPolicyText, RoundTrip) {
  for (role r : {role::owner, role::admin, role::member}) EXPECT_EQ(parse_role(to_string(r)), r);
  for (join_policy p : {join_policy::open, join_policy::invite}) EXPECT_EQ(parse_join_policy(to_string(p)), p);
  EXPECT_EQ(to_string(role::owner), "owner");
  EXPECT_EQ(to_string(join_policy::invite), "invite");
  EXPECT_FALSE(parse_role("Owner").has_value());
  EXPECT_FALSE(parse_join_policy("").has_value());
}

// ---------------------------------------------------------------------------------------------
// agent_id: 1 to 128 printable characters.

TEST(AgentId, FollowsTheRule) {
  const std::vector<text_case> table{
      {"", false},
      {"a", true},
      {"laptop-1", true},
      {"my laptop", true},
      {"agent-001-\xe6\x97\xa5", true},
      {repeat("a", 128), true},
      {repeat("a", 129), false},
      {repeat("\xc3\xa9", 128), true},
      {repeat("\xc3\xa9", 129), false},
      {"agent\0id"s, false},
      {"agent\n", false},
      {"\t", false},
      {"agent\x7f", false},
      {"agent\xc2\x80", false},
      {"a\xe2\x80\xae"s + "b", false},
      {"\x1b[2J", false},
  };
  for_each_row(table, [](const text_case& row) {
    const auto checked = validate_agent_id(row.input);
    ASSERT_EQ(checked.has_value(), row.accepted);
    if (checked) {
      EXPECT_EQ(*checked, row.input);
    } else {
      EXPECT_EQ(checked.error(), (violation{"agent_id must be 1 to 128 printable characters", "value_error.agent_id"}));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Addresses

const violation not_ipv4{"value is not a valid IPv4 address", "value_error.ipv4address"};

TEST(AddressIn, AcceptsOnlyHostAddressesOfTheSubnet) {
  const cidr subnet = *parse_cidr("10.0.0.0/24");
  const violation outside{"address is not a host address of the organization subnet 10.0.0.0/24",
                          "value_error.ipv4address.outside_subnet"};
  const std::vector<rule_case> table{
      {"10.0.0.1", accepted},  {"10.0.0.254", accepted},     {"10.0.0.77", accepted}, {"10.0.0.0", outside},  // network
      {"10.0.0.255", outside},  // broadcast
      {"10.0.1.1", outside},   {"9.255.255.255", outside},   {"10.0.1.0", outside},   {"192.168.0.1", outside},
      {"0.0.0.0", outside},    {"255.255.255.255", outside}, {"", not_ipv4},          {"10.0.0", not_ipv4},
      {"10.0.0.01", not_ipv4}, {"10.0.0.1/32", not_ipv4},    {"::1", not_ipv4},       {"host", not_ipv4},
      {" 10.0.0.1", not_ipv4},
  };
  for_each_row(table, [&](const rule_case& row) {
    const auto checked = validate_address_in(row.input, subnet);
    if (row.expected == accepted) {
      ASSERT_TRUE(checked.has_value()) << checked.error().msg;
      EXPECT_EQ(*checked, parse_ipv4(row.input));
    } else {
      ASSERT_FALSE(checked.has_value());
      EXPECT_EQ(checked.error(), row.expected);
    }
  });
}

TEST(AddressIn, Slash30HasExactlyTwoHosts) {
  const cidr subnet = *parse_cidr("10.0.0.4/30");
  EXPECT_TRUE(validate_address_in("10.0.0.5", subnet).has_value());
  EXPECT_TRUE(validate_address_in("10.0.0.6", subnet).has_value());
  EXPECT_FALSE(validate_address_in("10.0.0.4", subnet).has_value());
  EXPECT_FALSE(validate_address_in("10.0.0.7", subnet).has_value());
  EXPECT_FALSE(validate_address_in("10.0.0.3", subnet).has_value());
  EXPECT_FALSE(validate_address_in("10.0.0.8", subnet).has_value());
}

TEST(AddressIn, Slash8KeepsInnerZeroAndBroadcastLookingAddresses) {
  const cidr subnet = *parse_cidr("10.0.0.0/8");
  EXPECT_TRUE(validate_address_in("10.1.0.0", subnet).has_value());
  EXPECT_TRUE(validate_address_in("10.1.0.255", subnet).has_value());
  EXPECT_TRUE(validate_address_in("10.255.255.254", subnet).has_value());
  EXPECT_FALSE(validate_address_in("10.255.255.255", subnet).has_value());
  EXPECT_FALSE(validate_address_in("10.0.0.0", subnet).has_value());
}

TEST(Ipv4Rule, UsesTheIpv4Message) {
  EXPECT_EQ(validate_ipv4("10.0.0.1"), *parse_ipv4("10.0.0.1"));
  EXPECT_EQ(validate_ipv4("10.0.0.256").error(), not_ipv4);
  EXPECT_EQ(validate_ipv4("").error(), not_ipv4);
}

TEST(EndpointIp, AcceptsIpv4AndIpv6Only) {
  const std::vector<text_case> table{
      {"203.0.113.7", true},
      {"0.0.0.0", true},
      {"::1", true},
      {"2001:db8::1", true},
      {"fe80::1", true},
      {"::ffff:192.0.2.1", true},
      {"", false},
      {"localhost", false},
      {"example.com", false},
      {"1.2.3", false},
      {"1.2.3.256", false},
      {"01.2.3.4", false},
      {"::g", false},
      {"1.2.3.4:5000", false},
      {"[::1]", false},
      {" 1.2.3.4", false},
      // an embedded NUL (JSON "\u0000") must not be cut off and the rest accepted
      {"1.2.3.4\0"s, false},
      {"::1\0evil"s, false},
      {"2001:db8::1\0"s, false},
  };
  for_each_row(table, [](const text_case& row) {
    const auto checked = validate_endpoint_ip(row.input);
    ASSERT_EQ(checked.has_value(), row.accepted);
    if (checked) {
      EXPECT_EQ(*checked, row.input);
    } else {
      EXPECT_EQ(checked.error(), (violation{"value is not a valid IPv4 or IPv6 address", "value_error.ipaddress"}));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Numbers

struct number_case {
  std::int64_t input;
  violation expected;  // empty msg: accepted

  friend void PrintTo(const number_case& c, std::ostream* out) { *out << c.input; }
};

template <class Rule>
void check_numbers(const std::vector<number_case>& table, Rule rule) {
  for_each_row(table, [&](const number_case& row) {
    const auto checked = rule(row.input);
    if (row.expected == accepted) {
      ASSERT_TRUE(checked.has_value()) << checked.error().msg;
      EXPECT_EQ(static_cast<std::int64_t>(*checked), row.input);
    } else {
      ASSERT_FALSE(checked.has_value());
      EXPECT_EQ(checked.error(), row.expected);
    }
  });
}

constexpr auto int64_min = std::numeric_limits<std::int64_t>::min();
constexpr auto int64_max = std::numeric_limits<std::int64_t>::max();
const violation at_least_1{"ensure this value is greater than or equal to 1", "value_error.number.not_ge"};

TEST(Port, IsBetween1And65535) {
  const violation at_most{"ensure this value is less than or equal to 65535", "value_error.number.not_le"};
  check_numbers({{0, at_least_1},
                 {-1, at_least_1},
                 {int64_min, at_least_1},
                 {1, accepted},
                 {3478, accepted},
                 {65535, accepted},
                 {65536, at_most},
                 {65537 + 65536, at_most},
                 {int64_max, at_most}},
                validate_port);
}

TEST(InviteMaxUses, IsBetween1AndOneMillion) {
  const violation at_most{"ensure this value is less than or equal to 1000000", "value_error.number.not_le"};
  check_numbers({{0, at_least_1}, {-5, at_least_1}, {1, accepted}, {1'000'000, accepted}, {1'000'001, at_most}},
                validate_invite_max_uses);
}

TEST(InviteExpiresIn, IsBetweenOneMinuteAndOneYear) {
  const violation at_least{"ensure this value is greater than or equal to 60", "value_error.number.not_ge"};
  const violation at_most{"ensure this value is less than or equal to 31536000", "value_error.number.not_le"};
  check_numbers({{59, at_least},
                 {0, at_least},
                 {-60, at_least},
                 {60, accepted},
                 {7 * 24 * 3600, accepted},
                 {31'536'000, accepted},
                 {31'536'001, at_most}},
                validate_invite_expires_in);
}

}  // namespace
