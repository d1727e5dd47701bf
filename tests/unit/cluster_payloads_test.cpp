// The notifications between cluster processes (cluster/payloads.hpp): every kind of presence event
// survives the trip, payloads stay under the size they are given and never repeat, and anything
// malformed is refused whole.
#include "cluster/payloads.hpp"

#include "domain/ipv4.hpp"

#include <gtest/gtest.h>

#include <set>

namespace {

using namespace sig;
using sig::cluster::payload_packer;
using sig::cluster::unpack;
using event = signaling::presence_event;

domain::peer_info sample_peer() {
  domain::peer_info p;
  p.peer_id = "laptop \"1\" \\ ünïcode";
  p.user_id = 42;
  p.email = "alice@example.com";
  p.agent_id = "laptop";
  p.reachable = {"2001:db8::1", 65535, "198.51.100.7", 3478};
  p.organization_id = 7;
  p.virtual_ip = *domain::parse_ipv4("10.0.0.254");
  p.connection_id = "0b5e7c1e-0000-4000-8000-000000000000";
  p.registration = 123456789;
  p.process = 3;
  return p;
}

TEST(cluster_payloads, every_kind_of_event_survives_the_trip) {
  domain::peer_info without_relay = sample_peer();
  without_relay.agent_id.reset();
  without_relay.reachable.relay_ip.reset();
  without_relay.reachable.relay_port.reset();
  const std::vector<event> events{
      {event::kind::online, event::cause::left, sample_peer(), 0, 0, {}},
      {event::kind::update, event::cause::left, without_relay, 0, 0, {}},
      {event::kind::offline, event::cause::lost, sample_peer(), 0, 0, {}},
      {event::kind::offline, event::cause::removed, sample_peer(), 0, 0, {}},
      {event::kind::signal, event::cause::left, sample_peer(), *domain::parse_ipv4("10.0.0.1"), 9,
       R"({"type":"signal","data":{"sdp":"v=0\r\n"}})"},
  };
  payload_packer packer(3, 7800);
  const auto payloads = packer.pack(events);
  ASSERT_EQ(payloads.size(), 1u);
  const auto back = unpack(payloads[0]);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(back->origin, 3);
  ASSERT_EQ(back->events.size(), events.size());
  EXPECT_EQ(back->events[0].peer, sample_peer());
  EXPECT_EQ(back->events[1].peer, without_relay);
  EXPECT_EQ(back->events[2].why, event::cause::lost);
  EXPECT_EQ(back->events[2].peer.registration, sample_peer().registration);
  EXPECT_EQ(back->events[2].peer.virtual_ip, sample_peer().virtual_ip);
  EXPECT_EQ(back->events[3].why, event::cause::removed);
  EXPECT_EQ(back->events[4].target, *domain::parse_ipv4("10.0.0.1"));
  EXPECT_EQ(back->events[4].target_process, 9);
  EXPECT_EQ(back->events[4].payload, events[4].payload);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(back->events[i].what, events[i].what) << i;
}

TEST(cluster_payloads, many_events_are_split_under_the_limit_and_no_two_payloads_are_alike) {
  std::vector<event> events(500, event{event::kind::online, event::cause::left, sample_peer(), 0, 0, {}});
  payload_packer packer(1, 2000);
  const auto payloads = packer.pack(events);
  EXPECT_GT(payloads.size(), 50u);
  std::size_t carried = 0;
  std::set<std::string> distinct;
  std::uint64_t last_sequence = 0;
  for (const auto& payload : payloads) {
    EXPECT_LE(payload.size(), 2000u);
    distinct.insert(payload);
    const auto back = unpack(payload);
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_GT(back->sequence, last_sequence);
    last_sequence = back->sequence;
    carried += back->events.size();
  }
  EXPECT_EQ(carried, events.size());
  EXPECT_EQ(distinct.size(), payloads.size());
  // The same events again: new sequence numbers, new payloads.
  EXPECT_NE(packer.pack({events.data(), 1}).front(), packer.pack({events.data(), 1}).front());
}

TEST(cluster_payloads, an_event_larger_than_the_limit_travels_alone) {
  event big{event::kind::signal, event::cause::left, sample_peer(), 1, 2, std::string(60000, 'x')};
  event small{event::kind::offline, event::cause::left, sample_peer(), 0, 0, {}};
  payload_packer packer(1, 7800);
  const auto payloads = packer.pack(std::vector<event>{small, big, small});
  ASSERT_EQ(payloads.size(), 3u);
  EXPECT_GT(payloads[1].size(), 60000u);
  EXPECT_EQ(unpack(payloads[1])->events.at(0).payload.size(), 60000u);
}

TEST(cluster_payloads, nothing_to_say_is_no_payload) {
  payload_packer packer(1, 7800);
  EXPECT_TRUE(packer.pack({}).empty());
}

TEST(cluster_payloads, malformed_payloads_are_refused_whole) {
  const char* valid_offline = R"({"k":"off","g":1,"i":167772161,"n":5,"c":"left"})";
  for (const std::string& payload : {
           std::string(""),
           std::string("not json"),
           std::string("[]"),
           std::string(R"({"o":1,"s":1})"),
           std::string(R"({"o":"1","s":1,"e":[]})"),
           std::string(R"({"o":1,"s":1,"e":[{"k":"teleport","g":1,"i":1,"n":1}]})"),
           std::string(R"({"o":1,"s":1,"e":[{"k":"off","g":1,"i":1,"n":1,"c":"why-not"}]})"),
           std::string(R"({"o":1,"s":1,"e":[{"k":"off","g":1,"i":4294967296,"n":1,"c":"left"}]})"),
           std::string(R"({"o":1,"s":1,"e":[{"k":"off","g":1,"i":-1,"n":1,"c":"left"}]})"),
           std::string(R"({"o":1,"s":1,"e":[{"k":"sig","g":1,"i":1,"n":1,"t":2,"tp":3}]})"),
           std::string(R"({"o":1,"s":1,"e":[)") + valid_offline + R"(,{"k":"on","g":1,"i":1,"n":1}]})",
           std::string(R"({"o":1,"s":1,"e":[{"k":"up","g":1,"i":1,"n":1,"p":1,"cid":"c","pid":"p","uid":1,"em":"e",)"
                       R"("aid":null,"pip":"1.2.3.4","pp":70000,"rip":null,"rp":null}]})"),
       }) {
    EXPECT_FALSE(unpack(payload).has_value()) << payload;
  }
  EXPECT_TRUE(unpack(std::string(R"({"o":1,"s":1,"e":[)") + valid_offline + "]}").has_value());
}

}  // namespace
