// The ICE servers offered to agents: the STUN/TURN URI rules of STUN_URLS and TURN_URLS
// (domain/ice_uri), the "ice_servers" list with a user's TURN credentials (ws/ice_servers) and
// its place in the register_agent_response (signaling/messages).
#include "ws/ice_servers.hpp"
#include "domain/ice_uri.hpp"
#include "signaling/messages.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

namespace json = boost::json;
using sig::domain::ice_server_kind;
using sig::domain::is_valid_ice_uri;
constexpr sig::domain::cidr subnet{0x0a000000, 24};

TEST(IceUri, AcceptsStunAndTurnUrisOfTheirOwnKind) {
  for (const std::string_view uri : {"stun:stun.example.org", "stun:stun.example.org:3478", "stuns:192.0.2.1:5349",
                                     "stun:[2001:db8::1]", "stun:[2001:db8::1]:3478", "stun:localhost"})
    EXPECT_TRUE(is_valid_ice_uri(uri, ice_server_kind::stun)) << uri;
  for (const std::string_view uri : {"turn:turn.example.org", "turn:127.0.0.1:3478?transport=udp",
                                     "turns:turn.example.org:5349?transport=tcp", "turn:[::1]:3478"})
    EXPECT_TRUE(is_valid_ice_uri(uri, ice_server_kind::turn)) << uri;
}

TEST(IceUri, RefusesWhatAWebRtcStackWouldNot) {
  for (const std::string_view uri :
       {"", "stun:", "turn:example.org", "http://stun.example.org", "stun://stun.example.org", "STUN:example.org",
        "stun:example.org:0", "stun:example.org:65536", "stun:example.org:", "stun:example.org:34x",
        "stun:exa mple.org", "stun:[2001:db8::1", "stun:[]", "stun:[::1]3478", "stun:example.org?transport=udp",
        "stun:user@example.org", "stun:example.org/path"})
    EXPECT_FALSE(is_valid_ice_uri(uri, ice_server_kind::stun)) << uri;
  for (const std::string_view uri :
       {"stun:example.org", "turn:", "turn:example.org?transport=sctp",
        "turn:example.org?transport=", "turn:example.org:3478?foo=bar", "turns:example.org:99999"})
    EXPECT_FALSE(is_valid_ice_uri(uri, ice_server_kind::turn)) << uri;
}

TEST(IceServers, NothingOfferedNothingSent) {
  EXPECT_EQ(sig::ws::ice_servers_for({}, 42, 1'699'913'600), "");
  const auto answer = sig::signaling::registered_message({}, subnet, {});
  EXPECT_FALSE(json::parse(answer->text).as_object().contains("ice_servers")) << answer->text;
}

TEST(IceServers, StunWithoutCredentialsTurnWithTheUsersCredentials) {
  sig::ws::ice_options options;
  options.stun_urls = {"stun:127.0.0.1:3478"};
  options.turn_urls = {"turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"};
  options.turn_secret = "turn-shared-secret";
  options.credential_ttl = std::chrono::seconds(86'400);
  const json::value servers = json::parse(sig::ws::ice_servers_for(options, 42, 1'699'913'600));
  const json::value expected = json::parse(R"([
      {"urls": ["stun:127.0.0.1:3478"]},
      {"urls": ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"],
       "username": "1700000000:42", "credential": "VrMjI5lKa5CAV3iS5Y6wmuNZ1LY="}])");
  EXPECT_EQ(servers, expected) << servers;

  const std::string list = json::serialize(servers);
  const json::object answer = json::parse(sig::signaling::registered_message({}, subnet, {}, list)->text).as_object();
  EXPECT_EQ(answer.at("ice_servers"), expected);
  const auto resent = sig::signaling::ice_servers_message(list);
  EXPECT_EQ(resent->kind, sig::signaling::outbound_kind::ice_servers);
  EXPECT_EQ(json::parse(resent->text), json::value({{"type", "ice_servers"}, {"ice_servers", expected}}));
}

TEST(IceServers, OnlyTheConfiguredKindsAreListed) {
  sig::ws::ice_options stun_only;
  stun_only.stun_urls = {"stun:stun.example.org"};
  EXPECT_EQ(json::parse(sig::ws::ice_servers_for(stun_only, 7, 0)),
            json::parse(R"([{"urls":["stun:stun.example.org"]}])"));
  EXPECT_FALSE(stun_only.issues_credentials());
  sig::ws::ice_options turn_only;
  turn_only.turn_urls = {"turns:turn.example.org"};
  turn_only.turn_secret = "s";
  const json::array listed = json::parse(sig::ws::ice_servers_for(turn_only, 7, 100)).as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("username"), "86500:7");
}

TEST(IceServers, FreshCredentialsAtFourFifthsOfTheirLifetime) {
  EXPECT_EQ(sig::ws::credential_refresh_delay(std::chrono::seconds(86'400)), std::chrono::minutes(1152));  // 19.2 h
  EXPECT_EQ(sig::ws::credential_refresh_delay(std::chrono::seconds(2)), std::chrono::milliseconds(1'600));
}

}  // namespace
