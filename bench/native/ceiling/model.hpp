// The ceiling server's whole state, in memory: users, organizations, memberships, allocations
// and who is online. Nothing is ever deleted (a benchmark run is short and starts fresh), so
// allocation is a counter per subnet rather than "lowest free address".
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace ceiling {

struct conn;

struct user {
  std::string email;
  std::string password;   // plain text: see main.cpp
  std::vector<int> orgs;  // organization indices, in the order joined
};

struct organization {
  std::int64_t id = 0;
  std::string json;  // the organization object, serialized once
  std::uint32_t network = 0;
  std::uint32_t hosts = 0;      // usable addresses
  std::uint32_t next_host = 1;  // the next address to hand out, network + next_host
  std::vector<conn*> online;    // registered connections, unordered (conn::slot is the index)
  std::unordered_map<std::uint32_t, conn*> by_ip;
};

struct model {
  std::vector<user> users;  // user id = index + 1
  std::unordered_map<std::string, std::int64_t> user_by_email;
  std::vector<organization> orgs;                                // organization id = index + 1
  std::unordered_map<std::uint64_t, std::uint32_t> allocations;  // key(org index, user id) -> address
  std::unordered_map<std::uint64_t, char> members;               // key(org index, user id) -> role
  std::uint64_t connections = 0;                                 // connection ids handed out

  static std::uint64_t key(int org, std::int64_t user) {
    return (static_cast<std::uint64_t>(org) << 32) | static_cast<std::uint64_t>(user);
  }
};

std::string ipv4_text(std::uint32_t ip);
bool parse_ipv4(std::string_view s, std::uint32_t& ip);

}  // namespace ceiling
