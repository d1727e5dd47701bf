// The agent's WebSocket session, driven without sockets (tests/support/ws_session_driver.hpp):
// handshake refusals, authentication, registration, messages after registration, liveness of the
// registration whatever ends the session, and the closing handshake.
#include "ws_session_driver.hpp"

#include "domain/ipv4.hpp"

#include <gtest/gtest.h>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

namespace {

using namespace ws_testing;
using sig::signaling::presence_event;
namespace bhttp = boost::beast::http;

std::size_t online_count(session_world& world, const test_member& member) {
  return world.hub.online_peers(member.organization_id).size();
}

std::size_t offline_events(session_world& world, const test_member& member) {
  std::size_t count = 0;
  for (const presence_event& e : world.bus.events())
    if (e.what == presence_event::kind::offline && e.peer.organization_id == member.organization_id) ++count;
  return count;
}

// -- the handshake --------------------------------------------------------------------------------

struct refused_handshake {
  const char* name;
  void (*spoil)(sig::http::request&);
  bhttp::status status;
};

class ws_session_handshake : public ::testing::TestWithParam<refused_handshake> {};

TEST_P(ws_session_handshake, is_refused_with_a_json_detail) {
  session_world world;
  auto upgrade = upgrade_request("");
  GetParam().spoil(upgrade);
  session_client client(world, upgrade);
  const auto response = client.handshake_response();
  EXPECT_EQ(response.result(), GetParam().status);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  const auto body = boost::json::parse(response.body()).as_object();
  ASSERT_TRUE(body.contains("detail"));
  EXPECT_TRUE(body.at("detail").is_string());
  EXPECT_TRUE(client.wait_session_end());
  if (GetParam().status == bhttp::status::upgrade_required && response.count(bhttp::field::sec_websocket_version)) {
    EXPECT_EQ(response[bhttp::field::sec_websocket_version], "13");
  }
}

INSTANTIATE_TEST_SUITE_P(
    refusals, ws_session_handshake,
    ::testing::Values(
        refused_handshake{"missing_key", [](auto& r) { r.erase(bhttp::field::sec_websocket_key); },
                          bhttp::status::bad_request},
        refused_handshake{"short_key", [](auto& r) { r.set(bhttp::field::sec_websocket_key, "abc"); },
                          bhttp::status::bad_request},
        refused_handshake{"key_not_base64",
                          [](auto& r) { r.set(bhttp::field::sec_websocket_key, "!!!!!!!!!!!!!!!!!!!!!!=="); },
                          bhttp::status::bad_request},
        refused_handshake{"version_8", [](auto& r) { r.set(bhttp::field::sec_websocket_version, "8"); },
                          bhttp::status::upgrade_required},
        refused_handshake{"missing_version", [](auto& r) { r.erase(bhttp::field::sec_websocket_version); },
                          bhttp::status::upgrade_required},
        refused_handshake{"post", [](auto& r) { r.method(bhttp::verb::post); }, bhttp::status::method_not_allowed},
        refused_handshake{"no_upgrade_header", [](auto& r) { r.erase(bhttp::field::upgrade); },
                          bhttp::status::upgrade_required},
        refused_handshake{"no_connection_upgrade", [](auto& r) { r.set(bhttp::field::connection, "keep-alive"); },
                          bhttp::status::upgrade_required},
        refused_handshake{"no_host", [](auto& r) { r.erase(bhttp::field::host); }, bhttp::status::bad_request}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(ws_session_handshake_version, names_the_version_it_speaks) {
  session_world world;
  auto upgrade = upgrade_request("");
  upgrade.set(bhttp::field::sec_websocket_version, "8");
  session_client client(world, upgrade);
  const auto response = client.handshake_response();
  EXPECT_EQ(response.result(), bhttp::status::upgrade_required);
  EXPECT_EQ(response[bhttp::field::sec_websocket_version], "13");
}

// -- authentication and registration ---------------------------------------------------------------

TEST(ws_session_auth, without_a_token_is_refused_with_1008) {
  session_world world;
  session_client client(world, upgrade_request(""));
  client.open();
  EXPECT_EQ(client.next_message().at("error").as_string(), "No token provided");
  EXPECT_EQ(client.close_code(), 1008);
}

TEST(ws_session_auth, with_a_forged_token_is_refused_with_1008) {
  session_world world;
  const auto member = world.add_member("forger@example.com");
  session_client client(world, upgrade_request(member.token + "x"));
  client.open();
  EXPECT_EQ(client.next_message().at("error").as_string(), "Invalid token");
  EXPECT_EQ(client.close_code(), 1008);
}

TEST(ws_session_auth, first_message_other_than_register_is_refused) {
  session_world world;
  const auto member = world.add_member("eager@example.com");
  session_client client(world, upgrade_request(member.token));
  client.open();
  client.send_json({{"type", "ping"}});
  EXPECT_EQ(client.next_message().at("error").as_string(), "First message must be register");
  EXPECT_EQ(client.close_code(), 1008);
  EXPECT_EQ(online_count(world, member), 0u);
}

TEST(ws_session_auth, register_with_a_bad_port_is_refused) {
  session_world world;
  const auto member = world.add_member("badport@example.com");
  session_client client(world, upgrade_request(member.token));
  client.open();
  client.send_register({{"public_port", 70000}});
  EXPECT_EQ(client.next_message().at("error").as_string(), "Invalid public_port");
  EXPECT_EQ(client.close_code(), 1008);
}

TEST(ws_session_register, puts_the_peer_online_at_its_address) {
  session_world world;
  const auto member = world.add_member("agent@example.com");
  session_client client(world, upgrade_request(member.token));
  const auto response = client.register_member(member);
  EXPECT_EQ(response.at("type").as_string(), "register_agent_response");
  EXPECT_EQ(response.at("virtual_ip").as_string(), member.virtual_ip);
  EXPECT_EQ(online_count(world, member), 1u);
}

TEST(ws_session_register, announces_each_peer_to_the_other) {
  session_world world;
  const auto member = world.add_member("two@example.com");
  world.add_device(member, "laptop");
  session_client first(world, upgrade_request(member.token));
  first.register_member(member);
  session_client second(world, upgrade_request(member.token));
  const auto response = second.register_member(member, {{"agent_id", "laptop"}});
  EXPECT_EQ(response.at("type").as_string(), "register_agent_response");
  EXPECT_EQ(first.next_message().at("type").as_string(), "peer_online");
  EXPECT_EQ(online_count(world, member), 2u);
}

// -- after registration ----------------------------------------------------------------------------

TEST(ws_session_registered, errors_keep_the_connection_open) {
  session_world world;
  const auto member = world.add_member("errors@example.com");
  session_client client(world, upgrade_request(member.token));
  client.register_member(member);

  client.send_text("{not json");
  EXPECT_EQ(client.next_message().at("error").as_string(), "Invalid JSON");
  client.send_register();
  EXPECT_EQ(client.next_message().at("error").as_string(), "Already registered");
  client.send_json({{"type", "teleport"}});
  EXPECT_EQ(client.next_message().at("error").as_string(), "Unknown message type");
  client.send_json({{"type", "signal"}, {"to", "10.99.0.1"}, {"data", 1}});
  EXPECT_EQ(client.next_message().at("error").as_string(), "Unknown peer");
  client.send_json({{"type", "signal"}});
  EXPECT_EQ(client.next_message().at("error").as_string(), "Invalid signal");

  client.send_json({{"type", "ping"}});
  EXPECT_EQ(client.next_message().at("type").as_string(), "pong");
  EXPECT_EQ(online_count(world, member), 1u);
}

TEST(ws_session_registered, ping_is_answered_with_pong) {
  session_world world;
  const auto member = world.add_member("pinger@example.com");
  session_client client(world, upgrade_request(member.token));
  client.register_member(member);
  client.send_json({{"type", "ping"}});
  EXPECT_EQ(client.next_message().at("type").as_string(), "pong");
}

TEST(ws_session_registered, update_is_announced_to_the_others) {
  session_world world;
  const auto member = world.add_member("mover@example.com");
  world.add_device(member, "phone");
  session_client watcher(world, upgrade_request(member.token));
  watcher.register_member(member);
  session_client mover(world, upgrade_request(member.token));
  mover.register_member(member, {{"agent_id", "phone"}});
  EXPECT_EQ(watcher.next_message().at("type").as_string(), "peer_online");
  mover.send_json({{"type", "update"}, {"public_port", 50001}});
  const auto update = watcher.next_message();
  EXPECT_EQ(update.at("type").as_string(), "peer_update");
}

// -- the outbound queue ----------------------------------------------------------------------------

// A message larger than the queue limit (a large organization's register_agent_response, here a
// large signal) goes out alone; what arrives while it is being written is measured against the
// limit without it, or every newcomer of a large organization would be dropped as a slow consumer.
TEST(ws_session_queue, a_message_being_written_does_not_count_against_the_limit) {
  auto options = fast_options();
  options.queue_limit = 4096;
  session_world world(options);
  const auto member = world.add_member("queue@example.com");
  const std::string receiver_ip = world.add_device(member, "receiver");
  session_client receiver(world, upgrade_request(member.token), 64);  // 64 bytes per write step
  receiver.register_member(member, {{"agent_id", "receiver"}});
  session_client sender(world, upgrade_request(member.token));
  sender.register_member(member);
  ASSERT_EQ(receiver.next_message().at("type").as_string(), "peer_online");

  const std::string large(3 * options.queue_limit, 'x');
  sender.send_json({{"type", "signal"}, {"to", receiver_ip}, {"data", large}});
  for (int i = 0; i < 3; ++i) sender.send_json({{"type", "signal"}, {"to", receiver_ip}, {"data", i}});

  const auto first = receiver.next_message();
  EXPECT_EQ(first.at("type").as_string(), "signal");
  EXPECT_EQ(first.at("data").as_string(), large);
  for (int i = 0; i < 3; ++i) {
    const auto small = receiver.next_message();
    EXPECT_EQ(small.at("type").as_string(), "signal");
    EXPECT_EQ(small.at("data").as_int64(), i);
  }
  EXPECT_EQ(online_count(world, member), 2u);
}

// -- the registration ends with the session, whatever ends it --------------------------------------

TEST(ws_session_presence, peer_closing_takes_it_offline_once) {
  session_world world;
  const auto member = world.add_member("leaver@example.com");
  session_client client(world, upgrade_request(member.token));
  client.register_member(member);
  client.send_raw(client_frame(opcode_close, close_payload(1000)));
  EXPECT_EQ(client.close_code(), 1000);
  ASSERT_TRUE(client.wait_session_end());
  EXPECT_EQ(online_count(world, member), 0u);
  world.run_for(20ms);
  EXPECT_EQ(offline_events(world, member), 1u);
}

TEST(ws_session_presence, transport_lost_takes_it_offline) {
  session_world world;
  const auto member = world.add_member("vanisher@example.com");
  session_client client(world, upgrade_request(member.token));
  client.register_member(member);
  client.close_transport();
  ASSERT_TRUE(client.wait_session_end());
  EXPECT_EQ(online_count(world, member), 0u);
  EXPECT_EQ(offline_events(world, member), 1u);
}

// An exception while handling a message (here the bus fails while hub::update publishes) used to
// skip the leave that followed the read loop: the peer stayed online with no connection.
TEST(ws_session_presence, exception_while_handling_a_message_takes_it_offline) {
  session_world world;
  const auto member = world.add_member("unlucky@example.com");
  session_client client(world, upgrade_request(member.token));
  client.register_member(member);
  ASSERT_EQ(online_count(world, member), 1u);

  world.bus.fail_once([](const presence_event& e) { return e.what == presence_event::kind::update; });
  client.send_json({{"type", "update"}, {"public_port", 50002}});
  EXPECT_EQ(client.close_code(), 1011);  // internal error
  ASSERT_TRUE(client.wait_session_end());
  EXPECT_EQ(online_count(world, member), 0u) << "a ghost peer stayed online";
  EXPECT_EQ(offline_events(world, member), 1u);
}

// hub::join throws after putting the peer online (its announcement failed): the session never
// learnt its epoch, and must still take it offline.
TEST(ws_session_presence, exception_inside_join_takes_it_offline) {
  session_world world;
  const auto member = world.add_member("halfjoined@example.com");
  world.bus.fail_once([](const presence_event& e) { return e.what == presence_event::kind::online; });
  session_client client(world, upgrade_request(member.token));
  client.open();
  client.send_register();
  // The register_agent_response was queued before the failure; then the session fails.
  std::optional<std::uint16_t> code = client.close_code();
  EXPECT_EQ(code, 1011);
  ASSERT_TRUE(client.wait_session_end());
  EXPECT_EQ(online_count(world, member), 0u) << "a ghost peer stayed online";
}

// -- the closing handshake ---------------------------------------------------------------------------

TEST(ws_session_close, normal_close_is_echoed) {
  session_world world;
  const auto member = world.add_member("polite@example.com");
  session_client client(world, upgrade_request(member.token));
  client.register_member(member);
  client.send_raw(client_frame(opcode_close, close_payload(1000, "bye")));
  EXPECT_EQ(client.close_code(), 1000);
}

TEST(ws_session_close, application_codes_are_echoed) {
  for (const std::uint16_t code : {3000, 3999, 4000, 4999}) {
    session_world world;
    session_client client(world, upgrade_request(""));
    client.open();
    client.send_raw(client_frame(opcode_close, close_payload(code)));
    EXPECT_EQ(client.close_code(), code) << code;
  }
}

TEST(ws_session_close, invalid_codes_are_answered_with_1002) {
  for (const std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 5001, 65535}) {
    session_world world;
    const auto member = world.add_member("closer" + std::to_string(code) + "@example.com");
    session_client client(world, upgrade_request(member.token));
    client.register_member(member);
    client.send_raw(client_frame(opcode_close, close_payload(code)));
    EXPECT_EQ(client.close_code(), 1002) << code;
    EXPECT_TRUE(client.wait_session_end()) << code;
    EXPECT_EQ(online_count(world, member), 0u) << code;
  }
}

TEST(ws_session_close, invalid_code_split_across_reads_is_answered_with_1002) {
  session_world world;
  const auto member = world.add_member("splitter@example.com");
  session_client client(world, upgrade_request(member.token));
  client.register_member(member);
  const std::string frame = client_frame(opcode_close, close_payload(5000, "split"));
  for (const char byte : frame) {
    client.send_raw(std::string_view(&byte, 1));
    world.run_for(2ms);
  }
  EXPECT_EQ(client.close_code(), 1002);
}

TEST(ws_session_close, close_after_a_long_message_is_read_in_step) {
  session_world world;
  const auto member = world.add_member("long@example.com");
  session_client client(world, upgrade_request(member.token));
  client.register_member(member);
  // A 300-byte frame (16-bit length) made of close-frame-like bytes.
  const std::string noise(300, '\x88');
  client.send_raw(client_frame(opcode_binary, noise));
  EXPECT_EQ(client.next_message().at("error").as_string(), "Invalid JSON");
  client.send_raw(client_frame(opcode_close, close_payload(4321)));
  EXPECT_EQ(client.close_code(), 4321);
}

}  // namespace
