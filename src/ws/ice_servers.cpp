// ICE servers for agents; see ice_servers.hpp.
#include "ws/ice_servers.hpp"

#include "auth/turn_credentials.hpp"
#include "signaling/messages.hpp"

#include <array>

namespace sig::ws {

std::string ice_servers_for(const ice_options& options, domain::id user_id, std::int64_t now_unix) {
  if (!options.offered()) return {};
  auth::turn_credential turn;
  if (options.issues_credentials())
    turn = auth::make_turn_credential(options.turn_secret, user_id, now_unix, options.credential_ttl.count());
  const std::array<signaling::ice_server, 2> servers{
      {{options.stun_urls, {}, {}}, {options.turn_urls, turn.username, turn.credential}}};
  return signaling::ice_servers_json(servers);
}

std::chrono::milliseconds credential_refresh_delay(std::chrono::seconds ttl) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ttl) * 4 / 5;
}

}  // namespace sig::ws
