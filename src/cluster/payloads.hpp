// The notifications between server processes (PROTOCOL.md §7): presence events packed into
// JSON payloads. Each payload names the process that sent it and carries a sequence number, so
// that no two payloads of a process are alike (PostgreSQL delivers identical payloads of one
// transaction once). Pure: no database, no threads.
#pragma once

#include "signaling/presence_bus.hpp"

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sig::cluster {

/// The payloads of one process: what `events` says, in order, in payloads of at most
/// `max_bytes` (one event larger than that travels alone: the store carries long payloads).
class payload_packer {
 public:
  payload_packer(domain::process_id origin, std::size_t max_bytes) : origin_(origin), max_bytes_(max_bytes) {}
  std::vector<std::string> pack(std::span<const signaling::presence_event> events);

 private:
  domain::process_id origin_;
  std::size_t max_bytes_;
  std::uint64_t sequence_ = 0;
};

struct unpacked {
  domain::process_id origin = 0;
  std::uint64_t sequence = 0;
  std::vector<signaling::presence_event> events;
};

/// Reads a payload; an error message for anything that is not one (it is then ignored whole).
std::expected<unpacked, std::string> unpack(std::string_view payload);

}  // namespace sig::cluster
