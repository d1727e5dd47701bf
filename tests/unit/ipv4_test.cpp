// domain/ipv4: strict dotted-quad and CIDR parsing, formatting, and the host arithmetic the
// allocator relies on (network and broadcast addresses are never hosts).
#include "domain/ipv4.hpp"

#include "table.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using table_test::for_each_row;

using namespace std::string_view_literals;
using sig::domain::cidr;
using sig::domain::cidr_error;
using sig::domain::format_ipv4;
using sig::domain::ipv4;
using sig::domain::is_ipv6;
using sig::domain::parse_cidr;
using sig::domain::parse_ipv4;

constexpr ipv4 quad(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

// ---------------------------------------------------------------------------------------------
// parse_ipv4 / format_ipv4

struct good_address {
  std::string_view text;
  ipv4 value;
};

TEST(ParseIpv4, AcceptsDottedQuadsAndFormatsThemBack) {
  const good_address table[] = {
      {"0.0.0.0", 0},
      {"255.255.255.255", 0xFFFFFFFFu},
      {"1.2.3.4", 0x01020304u},
      {"10.0.0.1", quad(10, 0, 0, 1)},
      {"192.168.1.254", quad(192, 168, 1, 254)},
      {"100.64.0.0", quad(100, 64, 0, 0)},
      {"9.99.199.200", quad(9, 99, 199, 200)},
      {"127.0.0.1", quad(127, 0, 0, 1)},
      {"0.0.0.255", 255u},
      {"255.0.0.0", 0xFF000000u},
  };
  for_each_row(table, [](const good_address& row) {
    const auto parsed = parse_ipv4(row.text);
    ASSERT_TRUE(parsed.has_value()) << row.text;
    EXPECT_EQ(*parsed, row.value) << row.text;
    EXPECT_EQ(format_ipv4(row.value), row.text);
  });
}

TEST(ParseIpv4, RefusesEverythingElse) {
  // clang-format off
  const std::string_view table[] = {
      // missing or extra octets
      ""sv, "1"sv, "1.2"sv, "1.2.3"sv, "1.2.3.4.5"sv,
      // stray dots, empty octets
      "1.2.3."sv, "1.2.3.4."sv, ".1.2.3"sv, ".1.2.3.4"sv, "1..2.3"sv, "1.2..3.4"sv, "...."sv, "..."sv,
      // leading zeros (octal in some parsers)
      "01.2.3.4"sv, "1.02.3.4"sv, "1.2.3.04"sv, "00.0.0.0"sv, "1.2.3.00"sv, "010.0.0.1"sv,
      // out of range, or one big number
      "256.0.0.0"sv, "1.2.3.256"sv, "1.2.3.999"sv, "1.2.3.1000"sv, "4294967295"sv, "16909060"sv,
      // spaces and signs
      " 1.2.3.4"sv, "1.2.3.4 "sv, "1.2. 3.4"sv, "1 .2.3.4"sv, "1.2.3.4\n"sv, "+1.2.3.4"sv, "-1.2.3.4"sv,
      "1.2.3.+4"sv, "1.2.3.-0"sv,
      // other garbage, including a FULLWIDTH DIGIT ONE and embedded NULs
      "a.b.c.d"sv, "0x1.2.3.4"sv, "1.2.3.4a"sv, "1,2,3,4"sv, "1.2.3.4/24"sv, "\xef\xbc\x91.2.3.4"sv, "1.2.3.4\0"sv,
      "1.2\0.3.4"sv, "::1"sv, "::ffff:1.2.3.4"sv,
  };
  // clang-format on
  for_each_row(table, [](std::string_view text) { EXPECT_FALSE(parse_ipv4(text).has_value()); });
}

TEST(FormatIpv4, RoundTripsEveryFormattedAddress) {
  // A pseudo-random walk over the whole address space plus the extremes of every octet.
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const auto address = static_cast<ipv4>(state >> 32);
    const std::string text = format_ipv4(address);
    const auto parsed = parse_ipv4(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    ASSERT_EQ(*parsed, address) << text;
  }
  for (unsigned octet : {0u, 1u, 9u, 10u, 99u, 100u, 199u, 200u, 249u, 250u, 255u}) {
    const ipv4 address = quad(octet, octet, octet, octet);
    EXPECT_EQ(parse_ipv4(format_ipv4(address)), address);
  }
}

// ---------------------------------------------------------------------------------------------
// is_ipv6

TEST(IsIpv6, AcceptsTextualIpv6Addresses) {
  const std::string_view table[] = {
      "::1"sv,
      "::"sv,
      "fe80::1"sv,
      "2001:db8::1"sv,
      "::ffff:1.2.3.4"sv,
      "2001:0db8:0000:0000:0000:ff00:0042:8329"sv,
      "FE80::ABCD"sv,
      "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"sv,
  };
  for_each_row(table, [](std::string_view text) { EXPECT_TRUE(is_ipv6(text)); });
}

TEST(IsIpv6, RefusesEverythingElse) {
  // clang-format off
  const std::string_view table[] = {
      ""sv, "1.2.3.4"sv, ":::"sv, "2001:db8::g"sv, "[::1]"sv, " ::1"sv, "::1 "sv, "1:2:3:4:5:6:7:8:9"sv,
      "2001:db8::1::2"sv, "localhost"sv, "::1/128"sv,
      // longer than any textual IPv6 address
      "0000:0000:0000:0000:0000:ffff:255.255.255.255:1"sv,
      // an embedded NUL must not cut the text short
      "::1\0garbage"sv, "fe80::1\0"sv,
  };
  // clang-format on
  for_each_row(table, [](std::string_view text) { EXPECT_FALSE(is_ipv6(text)); });
}

// ---------------------------------------------------------------------------------------------
// cidr arithmetic

TEST(Cidr, Slash8) {
  const cidr block(quad(10, 0, 0, 0), 8);
  EXPECT_EQ(block.mask(), 0xFF000000u);
  EXPECT_EQ(block.network(), quad(10, 0, 0, 0));
  EXPECT_EQ(block.broadcast(), quad(10, 255, 255, 255));
  EXPECT_EQ(block.first_host(), quad(10, 0, 0, 1));
  EXPECT_EQ(block.last_host(), quad(10, 255, 255, 254));
  EXPECT_EQ(block.host_count(), 16'777'214u);
  EXPECT_TRUE(block.contains(quad(10, 0, 0, 0)));
  EXPECT_TRUE(block.contains(quad(10, 255, 255, 255)));
  EXPECT_FALSE(block.contains(quad(9, 255, 255, 255)));
  EXPECT_FALSE(block.contains(quad(11, 0, 0, 0)));
  EXPECT_FALSE(block.is_host(block.network()));
  EXPECT_FALSE(block.is_host(block.broadcast()));
  EXPECT_TRUE(block.is_host(block.first_host()));
  EXPECT_TRUE(block.is_host(block.last_host()));
  // Inside a /8, .0 and .255 of an inner /24 are ordinary hosts.
  EXPECT_TRUE(block.is_host(quad(10, 1, 2, 0)));
  EXPECT_TRUE(block.is_host(quad(10, 1, 2, 255)));
  EXPECT_FALSE(block.is_host(quad(9, 255, 255, 255)));
  EXPECT_FALSE(block.is_host(quad(11, 0, 0, 1)));
  EXPECT_EQ(block.to_string(), "10.0.0.0/8");
}

TEST(Cidr, Slash30) {
  const cidr block(quad(192, 168, 1, 4), 30);
  EXPECT_EQ(block.mask(), 0xFFFFFFFCu);
  EXPECT_EQ(block.broadcast(), quad(192, 168, 1, 7));
  EXPECT_EQ(block.first_host(), quad(192, 168, 1, 5));
  EXPECT_EQ(block.last_host(), quad(192, 168, 1, 6));
  EXPECT_EQ(block.host_count(), 2u);
  EXPECT_FALSE(block.is_host(quad(192, 168, 1, 3)));
  EXPECT_FALSE(block.is_host(quad(192, 168, 1, 4)));  // network
  EXPECT_TRUE(block.is_host(quad(192, 168, 1, 5)));
  EXPECT_TRUE(block.is_host(quad(192, 168, 1, 6)));
  EXPECT_FALSE(block.is_host(quad(192, 168, 1, 7)));  // broadcast
  EXPECT_FALSE(block.is_host(quad(192, 168, 1, 8)));
  EXPECT_EQ(block.to_string(), "192.168.1.4/30");
}

TEST(Cidr, Slash24) {
  const cidr block(quad(10, 0, 0, 0), 24);
  EXPECT_EQ(block.first_host(), quad(10, 0, 0, 1));
  EXPECT_EQ(block.last_host(), quad(10, 0, 0, 254));
  EXPECT_EQ(block.broadcast(), quad(10, 0, 0, 255));
  EXPECT_EQ(block.host_count(), 254u);
}

TEST(Cidr, Slash0) {
  const cidr block(0, 0);
  EXPECT_EQ(block.mask(), 0u);
  EXPECT_EQ(block.broadcast(), 0xFFFFFFFFu);
  EXPECT_EQ(block.first_host(), 1u);
  EXPECT_EQ(block.last_host(), 0xFFFFFFFEu);
  EXPECT_EQ(block.host_count(), 4'294'967'294u);
  EXPECT_TRUE(block.contains(0));
  EXPECT_TRUE(block.contains(0xFFFFFFFFu));
  EXPECT_TRUE(block.contains(quad(203, 0, 113, 7)));
  EXPECT_FALSE(block.is_host(0));
  EXPECT_FALSE(block.is_host(0xFFFFFFFFu));
  EXPECT_TRUE(block.is_host(1));
  EXPECT_EQ(block.to_string(), "0.0.0.0/0");
}

TEST(Cidr, Slash31And32HaveNoHosts) {
  const cidr pair(quad(10, 0, 0, 0), 31);
  EXPECT_EQ(pair.host_count(), 0u);
  EXPECT_EQ(pair.broadcast(), quad(10, 0, 0, 1));
  EXPECT_FALSE(pair.is_host(quad(10, 0, 0, 0)));
  EXPECT_FALSE(pair.is_host(quad(10, 0, 0, 1)));

  const cidr single(quad(10, 0, 0, 7), 32);
  EXPECT_EQ(single.mask(), 0xFFFFFFFFu);
  EXPECT_EQ(single.broadcast(), single.network());
  EXPECT_EQ(single.host_count(), 0u);
  EXPECT_TRUE(single.contains(quad(10, 0, 0, 7)));
  EXPECT_FALSE(single.contains(quad(10, 0, 0, 8)));
  EXPECT_FALSE(single.contains(quad(10, 0, 0, 6)));
  EXPECT_FALSE(single.is_host(quad(10, 0, 0, 7)));
  EXPECT_EQ(single.to_string(), "10.0.0.7/32");
}

TEST(Cidr, EveryPrefixHasConsistentArithmetic) {
  for (int prefix = 0; prefix <= 32; ++prefix) {
    SCOPED_TRACE("prefix " + std::to_string(prefix));
    const ipv4 network = prefix == 0 ? 0 : (quad(172, 16, 0, 0) & cidr(0, prefix).mask());
    const cidr block(network, prefix);
    EXPECT_EQ(std::popcount(block.mask()), prefix);
    EXPECT_EQ(block.broadcast(), network | ~block.mask());
    const std::uint64_t size = std::uint64_t{1} << (32 - prefix);
    EXPECT_EQ(block.host_count(), prefix <= 30 ? size - 2 : 0u);
    if (prefix <= 30) {
      EXPECT_EQ(block.first_host(), network + 1);
      EXPECT_EQ(block.last_host(), block.broadcast() - 1);
      EXPECT_EQ(std::uint64_t{block.last_host()} - block.first_host() + 1, block.host_count());
      EXPECT_TRUE(block.is_host(block.first_host()));
      EXPECT_TRUE(block.is_host(block.last_host()));
    }
    EXPECT_FALSE(block.is_host(block.network()));
    EXPECT_FALSE(block.is_host(block.broadcast()));
    if (prefix > 0) {
      EXPECT_FALSE(block.contains(block.broadcast() + 1));
      EXPECT_FALSE(block.is_host(block.broadcast() + 1));
      EXPECT_FALSE(block.is_host(block.network() - 1));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// parse_cidr

struct good_cidr {
  std::string_view text;
  ipv4 network;
  int prefix;
};

TEST(ParseCidr, AcceptsNetworksAndFormatsThemBack) {
  const good_cidr table[] = {
      {"10.0.0.0/8", quad(10, 0, 0, 0), 8},         {"0.0.0.0/0", 0, 0},
      {"192.168.1.4/30", quad(192, 168, 1, 4), 30}, {"1.2.3.4/32", quad(1, 2, 3, 4), 32},
      {"1.2.3.4/31", quad(1, 2, 3, 4), 31},         {"10.0.0.0/24", quad(10, 0, 0, 0), 24},
      {"172.16.0.0/12", quad(172, 16, 0, 0), 12},   {"128.0.0.0/1", quad(128, 0, 0, 0), 1},
      {"255.255.255.255/32", 0xFFFFFFFFu, 32},
  };
  for_each_row(table, [](const good_cidr& row) {
    const auto parsed = parse_cidr(row.text);
    ASSERT_TRUE(parsed.has_value()) << row.text;
    EXPECT_EQ(parsed->network(), row.network);
    EXPECT_EQ(parsed->prefix(), row.prefix);
    EXPECT_EQ(parsed->to_string(), row.text);
    EXPECT_EQ(*parsed, cidr(row.network, row.prefix));
  });
}

TEST(ParseCidr, SyntaxErrors) {
  // clang-format off
  const std::string_view table[] = {
      ""sv, "/"sv, "10.0.0.0"sv, "10.0.0.0/"sv, "/8"sv,
      // prefix out of range, with leading zeros, signs or spaces
      "10.0.0.0/33"sv, "1.2.3.4/33"sv, "10.0.0.0/100"sv, "10.0.0.0/08"sv, "10.0.0.0/00"sv, "10.0.0.0/+8"sv,
      "10.0.0.0/-8"sv, "10.0.0.0/ 8"sv, "10.0.0.0 /8"sv, "10.0.0.0/8 "sv, " 10.0.0.0/8"sv, "10.0.0.0/8\0"sv,
      // a bad address part, or more than one prefix
      "10.0.0/8"sv, "010.0.0.0/8"sv, "256.0.0.0/8"sv, "10.0.0.0/8/8"sv, "10.0.0.0//8"sv, "10.0.0.0/8.0"sv,
      "10.0.0.0/a"sv, "10.0.0.0./8"sv, "::/0"sv,
  };
  // clang-format on
  for_each_row(table, [](std::string_view text) {
    const auto parsed = parse_cidr(text);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error(), cidr_error::syntax);
  });
}

TEST(ParseCidr, HostBitsSet) {
  const std::string_view table[] = {
      "10.0.0.5/24"sv, "10.0.0.1/8"sv, "10.0.1.0/8"sv,  "192.168.1.5/30"sv, "192.168.1.6/30"sv,
      "1.2.3.5/31"sv,  "0.0.0.1/0"sv,  "128.0.0.0/0"sv, "10.0.0.128/24"sv,  "11.0.0.0/7"sv,
  };
  for_each_row(table, [](std::string_view text) {
    const auto parsed = parse_cidr(text);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error(), cidr_error::host_bits_set);
  });
}

}  // namespace
