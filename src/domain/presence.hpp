// An online peer (PROTOCOL.md §5.3, §7): who it is, where its organization placed it, the public
// and relay endpoints it reported, and which registration it is. The hub keeps these in memory;
// with PostgreSQL the presence table keeps them for every process of the cluster.
#pragma once

#include "domain/ipv4.hpp"
#include "domain/model.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace sig::domain {

/// Orders the registrations of one virtual IP: a larger epoch is a later registration. With
/// PostgreSQL it comes from one database sequence shared by every process, so "the larger epoch
/// wins" decides take-over races across processes; a single process numbers them itself.
using epoch = std::int64_t;

/// A server process of the cluster (its row in the processes table); 0 in a single process.
using process_id = std::int64_t;

/// The endpoints an agent learned from STUN (public) and TURN (relay).
struct endpoints {
  std::string public_ip;
  std::uint16_t public_port = 0;
  std::optional<std::string> relay_ip;
  std::optional<std::uint16_t> relay_port;

  friend bool operator==(const endpoints&, const endpoints&) = default;
};

struct peer_info {
  std::string peer_id;  // agent_id when given, else "peer-" + 12 hex
  id user_id = 0;
  std::string email;
  std::optional<std::string> agent_id;
  endpoints reachable;
  id organization_id = 0;
  ipv4 virtual_ip = 0;
  std::string connection_id;  // UUIDv4 of the registration
  epoch registration = 0;     // see epoch
  process_id process = 0;     // where its connection lives (cluster)

  friend bool operator==(const peer_info&, const peer_info&) = default;
};

/// A registration that a removal (member removed, address released) ended. `registration` 0
/// means "whatever registration holds the address now": a single process, which keeps no
/// presence table, learns only the addresses.
struct ended_presence {
  ipv4 address = 0;
  epoch registration = 0;

  friend bool operator==(const ended_presence&, const ended_presence&) = default;
};

}  // namespace sig::domain
