// The signaling hub without sockets: fake connections record what they are sent, so every rule of
// PROTOCOL.md §5 about who hears what, and when, is checked directly. Several processes: hub_cluster_test.cpp.
#include "hub_test_support.hpp"

#include <set>
#include <thread>

namespace {

using namespace hub_testing;

class hub_test : public testing::Test {
 protected:
  local_bus bus;
  hub h{bus};
};

TEST_F(hub_test, registration_answers_with_the_other_online_peers_and_announces_the_new_one) {
  const online a = join(h, make_peer(1, "10.0.0.1", "a", 1));
  const json::object first = a.connection->last();
  EXPECT_EQ(first.at("type"), "register_agent_response");
  EXPECT_EQ(first.at("status"), "registered");
  EXPECT_EQ(first.at("virtual_ip"), "10.0.0.1");
  EXPECT_EQ(first.at("connection_id"), "a-10.0.0.1");
  EXPECT_EQ(first.at("peer_id"), "a");
  EXPECT_EQ(first.at("organization_id"), 1);
  EXPECT_EQ(first.at("subnet"), "10.0.0.0/24");
  EXPECT_TRUE(first.at("existing_peers").as_array().empty());

  const online b = join(h, make_peer(1, "10.0.0.2", "b", 2));
  const json::array existing = b.connection->last().at("existing_peers").as_array();
  ASSERT_EQ(existing.size(), 1u);
  const json::object expected_a{{"peer_id", "a"},
                                {"user_id", 1},
                                {"email", "user1@example.com"},
                                {"agent_id", "a"},
                                {"public_ip", "203.0.113.1"},
                                {"public_port", 50000},
                                {"relay_ip", nullptr},
                                {"relay_port", nullptr},
                                {"virtual_ip", "10.0.0.1"}};
  EXPECT_EQ(existing[0].as_object(), expected_a);
  EXPECT_EQ(a.connection->types(), (std::vector<std::string>{"register_agent_response", "peer_online"}));
  EXPECT_EQ(a.connection->last().at("peer").at("virtual_ip"), "10.0.0.2");
  EXPECT_EQ(h.online_count(), 2u);
}

TEST_F(hub_test, leaving_is_announced_once_to_the_others_only) {
  const online a = join(h, make_peer(1, "10.0.0.1", "a", 1));
  const online b = join(h, make_peer(1, "10.0.0.2", "b", 2));
  h.leave(b.peer);
  h.leave(b.peer);  // a late second close of the same registration changes nothing
  const json::object offline{{"type", "peer_offline"}, {"peer_id", "b"}, {"user_id", 2}, {"virtual_ip", "10.0.0.2"}};
  EXPECT_EQ(a.connection->types(),
            (std::vector<std::string>{"register_agent_response", "peer_online", "peer_offline"}));
  EXPECT_EQ(a.connection->last(), offline);
  EXPECT_EQ(b.connection->types(), std::vector<std::string>{"register_agent_response"});
  EXPECT_EQ(h.online_count(), 1u);
}

TEST_F(hub_test, take_over_replaces_the_older_connection_and_its_late_close_changes_nothing) {
  const online watcher = join(h, make_peer(1, "10.0.0.9", "w", 9));
  const online old = join(h, make_peer(1, "10.0.0.1", "a", 1, "old"));
  const online fresh = join(h, make_peer(1, "10.0.0.1", "a", 1, "new"));
  EXPECT_EQ(old.connection->closes(), std::vector<close_reason>{close_reason::replaced});
  EXPECT_EQ(watcher.connection->types(),
            (std::vector<std::string>{"register_agent_response", "peer_online", "peer_offline", "peer_online"}));
  EXPECT_EQ(fresh.connection->last().at("existing_peers").as_array().size(), 1u);  // the watcher only

  h.leave(old.peer);  // the replaced connection's close arrives late
  EXPECT_EQ(watcher.connection->messages().size(), 4u);
  ASSERT_EQ(h.online_peers(1).size(), 2u);
  EXPECT_EQ(h.online_peers(1)[0].connection_id, "new");
}

TEST_F(hub_test, updates_reach_the_others_and_unchanged_endpoints_are_not_broadcast) {
  const online a = join(h, make_peer(1, "10.0.0.1", "a", 1));
  const online b = join(h, make_peer(1, "10.0.0.2", "b", 2));
  update_request change;
  change.public_port = 40000;
  change.relay_ip = std::optional<std::string>("198.51.100.7");
  change.relay_port = std::optional<std::uint16_t>(3478);
  const auto updated = h.update(b.peer, change);
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->reachable.public_port, 40000);
  const json::object peer = a.connection->last().at("peer").as_object();
  EXPECT_EQ(a.connection->last().at("type"), "peer_update");
  EXPECT_EQ(peer.at("public_port"), 40000);
  EXPECT_EQ(peer.at("relay_ip"), "198.51.100.7");
  EXPECT_EQ(peer.at("relay_port"), 3478);
  EXPECT_EQ(b.connection->types(), std::vector<std::string>{"register_agent_response"});

  const std::size_t before = a.connection->messages().size();
  EXPECT_TRUE(h.update(b.peer, change));  // the same values again
  EXPECT_EQ(a.connection->messages().size(), before);

  update_request clear;
  clear.relay_ip = std::optional<std::string>();
  clear.relay_port = std::optional<std::uint16_t>();
  h.update(b.peer, clear);
  EXPECT_TRUE(a.connection->last().at("peer").at("relay_ip").is_null());
  EXPECT_TRUE(a.connection->last().at("peer").at("relay_port").is_null());
}

TEST_F(hub_test, a_replaced_registration_can_no_longer_update_or_signal) {
  const online old = join(h, make_peer(1, "10.0.0.1", "a", 1, "old"));
  const online other = join(h, make_peer(1, "10.0.0.2", "b", 2));
  join(h, make_peer(1, "10.0.0.1", "a", 1, "new"));
  update_request change;
  change.public_port = 1;
  EXPECT_FALSE(h.update(old.peer, change));
  EXPECT_FALSE(h.relay(old.peer, "10.0.0.2", "{}"));
}

TEST_F(hub_test, signals_find_their_target_by_address_then_by_unique_peer_id) {
  const online a = join(h, make_peer(1, "10.0.0.1", "laptop", 1));
  const online b = join(h, make_peer(1, "10.0.0.2", "phone", 2));
  const online c = join(h, make_peer(1, "10.0.0.3", "phone", 3));

  EXPECT_TRUE(h.relay(a.peer, "10.0.0.2", R"({"candidate":"x"})"));
  const json::object expected{{"type", "signal"},
                              {"from", "laptop"},
                              {"from_virtual_ip", "10.0.0.1"},
                              {"from_user_id", 1},
                              {"data", json::object{{"candidate", "x"}}}};
  EXPECT_EQ(b.connection->last(), expected);
  EXPECT_TRUE(h.relay(b.peer, "laptop", "null"));
  EXPECT_EQ(a.connection->last().at("from"), "phone");
  EXPECT_FALSE(h.relay(a.peer, "phone", "1"));  // two online peers use that peer_id
  EXPECT_FALSE(h.relay(a.peer, "10.0.0.99", "1"));
  EXPECT_FALSE(h.relay(a.peer, "nobody", "1"));
}

TEST_F(hub_test, organizations_with_the_same_subnet_never_see_each_other) {
  const online a = join(h, make_peer(1, "10.0.0.1", "a", 1));
  const online b = join(h, make_peer(2, "10.0.0.2", "b", 2));
  EXPECT_TRUE(b.connection->last().at("existing_peers").as_array().empty());
  EXPECT_EQ(a.connection->types(), std::vector<std::string>{"register_agent_response"});
  EXPECT_FALSE(h.relay(a.peer, "10.0.0.2", "{}"));
  EXPECT_FALSE(h.relay(a.peer, "b", "{}"));
  const online same_address = join(h, make_peer(2, "10.0.0.1", "c", 3));  // not a take-over of org 1's
  EXPECT_TRUE(a.connection->closes().empty());
  h.leave(b.peer);
  EXPECT_EQ(a.connection->types(), std::vector<std::string>{"register_agent_response"});
  EXPECT_EQ(h.online_peers(1).size(), 1u);
  EXPECT_EQ(h.online_peers(2).size(), 1u);
}

TEST_F(hub_test, removal_through_rest_closes_the_connection_and_announces_it_once) {
  const online a = join(h, make_peer(1, "10.0.0.1", "a", 1));
  const online b = join(h, make_peer(1, "10.0.0.2", "b", 2));
  const std::vector<domain::ended_presence> removed{{b.peer.virtual_ip, 0}, {*domain::parse_ipv4("10.0.0.77"), 0}};
  h.disconnect(1, removed);
  EXPECT_EQ(b.connection->closes(), std::vector<close_reason>{close_reason::removed});
  EXPECT_EQ(a.connection->last().at("type"), "peer_offline");
  h.leave(b.peer);  // the removed connection's own close
  EXPECT_EQ(a.connection->messages().size(), 3u);
  EXPECT_EQ(h.online_count(), 1u);
}

TEST_F(hub_test, concurrent_joins_and_leaves_leave_every_receiver_with_the_true_picture) {
  constexpr int threads = 8, per_thread = 40;
  const online observer = join(h, make_peer(1, "10.0.0.254", "observer", 999));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const domain::ipv4 base = *domain::parse_ipv4("10.0.0.0");
        const auto address = domain::format_ipv4(base + static_cast<domain::ipv4>((t + 1) * 256 + i + 1));
        const online o = join(h, make_peer(1, address, "p" + std::to_string(t * 1000 + i), t + 1));
        if (i % 2 == 0) h.leave(o.peer);
      }
    });
  }
  for (auto& w : workers) w.join();
  // Replaying what the observer was told gives exactly the peers that are online.
  std::set<std::string> seen;
  for (const auto& m : observer.connection->messages()) {
    if (m.at("type") == "peer_online") seen.insert(std::string(m.at("peer").at("virtual_ip").as_string()));
    if (m.at("type") == "peer_offline") {
      EXPECT_EQ(seen.erase(std::string(m.at("virtual_ip").as_string())), 1u);
    }
  }
  std::set<std::string> actual;
  for (const auto& p : h.online_peers(1))
    if (p.peer_id != "observer") actual.insert(domain::format_ipv4(p.virtual_ip));
  EXPECT_EQ(seen, actual);
  EXPECT_EQ(actual.size(), static_cast<std::size_t>(threads * per_thread / 2));
}

}  // namespace
