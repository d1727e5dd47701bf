// IPv4 addresses and CIDR blocks: strict parsing, formatting and the host-address arithmetic the
// allocator relies on (network and broadcast addresses are never hosts).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace sig::domain {

using ipv4 = std::uint32_t;

/// Dotted quad, four decimal octets 0-255 without leading zeros ("010.0.0.1" is refused, since
/// some parsers read it as octal).
std::optional<ipv4> parse_ipv4(std::string_view text) noexcept;
std::string format_ipv4(ipv4 address);

/// True for any textual IPv6 address inet_pton accepts.
bool is_ipv6(std::string_view text) noexcept;

class cidr {
 public:
  /// `network` must have its host bits zero and `prefix` be in 0-32; parse_cidr ensures both.
  constexpr cidr(ipv4 network, int prefix) noexcept : network_(network), prefix_(prefix) {}

  constexpr ipv4 network() const noexcept { return network_; }
  constexpr int prefix() const noexcept { return prefix_; }
  constexpr ipv4 mask() const noexcept {
    return prefix_ == 0 ? 0u : static_cast<ipv4>(~std::uint64_t{0} << (32 - prefix_));
  }
  constexpr ipv4 broadcast() const noexcept { return network_ | ~mask(); }
  constexpr bool contains(ipv4 a) const noexcept { return (a & mask()) == network_; }

  /// Host addresses exclude the network and broadcast addresses; prefixes /31 and /32 have none
  /// here, because the contract only allows /8 to /30.
  constexpr ipv4 first_host() const noexcept { return network_ + 1; }
  constexpr ipv4 last_host() const noexcept { return broadcast() - 1; }
  constexpr std::uint64_t host_count() const noexcept {
    return prefix_ >= 31 ? 0 : (std::uint64_t{1} << (32 - prefix_)) - 2;
  }
  constexpr bool is_host(ipv4 a) const noexcept {
    return contains(a) && prefix_ < 31 && a != network_ && a != broadcast();
  }

  std::string to_string() const;

  friend constexpr bool operator==(const cidr&, const cidr&) = default;

 private:
  ipv4 network_;
  int prefix_;
};

enum class cidr_error { syntax, host_bits_set };

/// "a.b.c.d/n" with n in 0-32 (no sign, no leading zeros); the range policy (/8-/30) belongs to
/// validation.
std::expected<cidr, cidr_error> parse_cidr(std::string_view text) noexcept;

}  // namespace sig::domain
