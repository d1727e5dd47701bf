// The ICE servers offered to agents (PROTOCOL.md §5.3: STUN_URLS, TURN_URLS, TURN_SECRET): the
// "ice_servers" list for one user, with TURN credentials made for that user, and when a session
// sends fresh ones.
#pragma once

#include "domain/model.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sig::ws {

struct ice_options {
  std::vector<std::string> stun_urls;  // validated at start-up (domain/ice_uri.hpp)
  std::vector<std::string> turn_urls;
  std::string turn_secret;  // shared with the TURN server (coturn's static-auth-secret)
  std::chrono::seconds credential_ttl{86'400};

  bool offered() const noexcept { return !stun_urls.empty() || !turn_urls.empty(); }
  bool issues_credentials() const noexcept { return !turn_urls.empty(); }
};

/// The "ice_servers" JSON array for `user_id`, its TURN credentials valid from `now_unix`; empty
/// when nothing is offered.
std::string ice_servers_for(const ice_options& options, domain::id user_id, std::int64_t now_unix);

/// How long after issuing TURN credentials a session sends fresh ones: at 80 % of their lifetime.
/// The fresh ones arrive while the old ones still hold for a fifth of it (4.8 h at the default
/// 24 h): room for a busy writer, a reconnecting agent and a clock difference between this server
/// and the TURN server, which both read the expiry as Unix time. Later would leave an agent about
/// to allocate a relay with credentials about to lapse; earlier would re-send for nothing.
std::chrono::milliseconds credential_refresh_delay(std::chrono::seconds ttl) noexcept;

}  // namespace sig::ws
