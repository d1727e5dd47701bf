// IPv4 and CIDR parsing and formatting; see ipv4.hpp.
#include "domain/ipv4.hpp"

#include <arpa/inet.h>

#include <array>

namespace sig::domain {
namespace {

// Parses a decimal number of 1-3 digits without leading zeros, at most `max`.
std::optional<unsigned> parse_small_decimal(std::string_view text, unsigned max) noexcept {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text.front() == '0')) return {};
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return {};
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > max) return {};
  return value;
}

}  // namespace

std::optional<ipv4> parse_ipv4(std::string_view text) noexcept {
  ipv4 address = 0;
  for (int octet = 0; octet < 4; ++octet) {
    const std::size_t dot = octet < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return {};
    const auto value = parse_small_decimal(text.substr(0, dot), 255);
    if (!value) return {};
    address = (address << 8) | *value;
    text.remove_prefix(octet < 3 ? dot + 1 : dot);
  }
  return address;
}

std::string format_ipv4(ipv4 address) {
  std::string text;
  text.reserve(15);
  for (int shift = 24; shift >= 0; shift -= 8) {
    text += std::to_string((address >> shift) & 0xFF);
    if (shift > 0) text.push_back('.');
  }
  return text;
}

bool is_ipv6(std::string_view text) noexcept {
  // inet_pton reads a C string: an embedded NUL would hide what follows it.
  if (text.empty() || text.size() > 45 || text.find('\0') != std::string_view::npos) return false;
  std::array<char, 46> buffer{};
  text.copy(buffer.data(), text.size());
  std::array<unsigned char, 16> raw{};
  return inet_pton(AF_INET6, buffer.data(), raw.data()) == 1;
}

std::string cidr::to_string() const { return format_ipv4(network_) + "/" + std::to_string(prefix_); }

std::expected<cidr, cidr_error> parse_cidr(std::string_view text) noexcept {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::unexpected(cidr_error::syntax);
  const auto address = parse_ipv4(text.substr(0, slash));
  const auto prefix = parse_small_decimal(text.substr(slash + 1), 32);
  if (!address || !prefix) return std::unexpected(cidr_error::syntax);
  const cidr block(*address & cidr(0, static_cast<int>(*prefix)).mask(), static_cast<int>(*prefix));
  if (block.network() != *address) return std::unexpected(cidr_error::host_bits_set);
  return block;
}

}  // namespace sig::domain
