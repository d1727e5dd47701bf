// The hub as one process of a cluster: registrations ordered by epoch whatever order the news
// arrives in, removals that win against registrations in flight, reconciliation with the presence
// table, and two hubs joined by an in-memory bus standing in for two server processes.
#include "hub_test_support.hpp"

#include <vector>

namespace {

using namespace hub_testing;

presence_event remote_online(const peer_info& peer) {
  return {presence_event::kind::online, presence_event::cause::left, peer, 0, 0, {}};
}

presence_event remote_offline(const peer_info& peer, presence_event::cause why = presence_event::cause::left) {
  return {presence_event::kind::offline, why, peer, 0, 0, {}};
}

// A peer of process 2 (as its notification would describe it).
peer_info remote_peer(const std::string& address, const std::string& peer_id, domain::id user) {
  peer_info peer = make_peer(1, address, peer_id, user);
  peer.process = 2;
  return peer;
}

class hub_epoch_test : public testing::Test {
 protected:
  recording_bus bus;
  hub h{bus, 1};
  online observer = join(h, make_peer(1, "10.0.0.254", "observer", 99));
};

TEST_F(hub_epoch_test, an_older_registration_arriving_late_changes_nothing) {
  const peer_info older = remote_peer("10.0.0.1", "x", 1);
  const peer_info newer = remote_peer("10.0.0.1", "x", 1);
  h.apply_remote(remote_online(newer));
  h.apply_remote(remote_online(older));
  EXPECT_EQ(observer.connection->types(), (std::vector<std::string>{"register_agent_response", "peer_online"}));
  ASSERT_EQ(h.online_peers(1).size(), 2u);
  EXPECT_EQ(h.online_peers(1)[0].registration, newer.registration);
}

TEST_F(hub_epoch_test, an_offline_that_overtakes_its_online_keeps_it_from_ever_coming_online) {
  const peer_info gone = remote_peer("10.0.0.1", "x", 1);
  h.apply_remote(remote_offline(gone, presence_event::cause::removed));
  h.apply_remote(remote_online(gone));
  EXPECT_EQ(observer.connection->types(), std::vector<std::string>{"register_agent_response"});
  const peer_info later = remote_peer("10.0.0.1", "x", 1);  // a new registration is welcome
  h.apply_remote(remote_online(later));
  EXPECT_EQ(observer.connection->types(), (std::vector<std::string>{"register_agent_response", "peer_online"}));
}

TEST_F(hub_epoch_test, a_removal_between_the_lookup_and_the_join_wins) {
  // A single process: the epoch is taken before the database lookup, the removal commits and
  // disconnects (epoch 0: "whatever is online there"), then the join arrives.
  peer_info late = make_peer(1, "10.0.0.1", "x", 1);
  late.registration = 0;  // numbered by the hub when it joins
  const domain::epoch ticket = h.next_epoch();
  const std::vector<domain::ended_presence> removed{{late.virtual_ip, 0}};
  h.disconnect(1, removed);
  const auto connection = std::make_shared<fake_connection>();
  EXPECT_FALSE(h.join(connection, late, subnet, ticket));
  EXPECT_EQ(connection->closes(), std::vector<close_reason>{close_reason::removed});
  EXPECT_TRUE(connection->messages().empty());
  EXPECT_EQ(observer.connection->types(), std::vector<std::string>{"register_agent_response"});

  peer_info again = make_peer(1, "10.0.0.1", "x", 1);  // allocated and registered again, later
  again.registration = 0;
  EXPECT_TRUE(h.join(std::make_shared<fake_connection>(), again, subnet, h.next_epoch()));
}

TEST_F(hub_epoch_test, the_later_registration_wins_a_take_over_race_whichever_arrives_first) {
  const peer_info here = make_peer(1, "10.0.0.1", "x", 1);
  const peer_info there = remote_peer("10.0.0.1", "x", 1);  // later epoch, another process
  h.apply_remote(remote_online(there));
  const auto connection = std::make_shared<fake_connection>();
  EXPECT_FALSE(h.join(connection, here, subnet, here.registration));
  EXPECT_EQ(connection->closes(), std::vector<close_reason>{close_reason::replaced});

  const online local = join(h, make_peer(1, "10.0.0.2", "y", 2));
  h.apply_remote(remote_online(remote_peer("10.0.0.2", "y", 2)));  // later: takes it over
  EXPECT_EQ(local.connection->closes(), std::vector<close_reason>{close_reason::replaced});
  EXPECT_EQ(observer.connection->types(), (std::vector<std::string>{"register_agent_response", "peer_online",
                                                                    "peer_online", "peer_offline", "peer_online"}));
}

TEST_F(hub_epoch_test, a_remote_removal_or_loss_closes_the_local_connection_with_its_code) {
  const online removed = join(h, make_peer(1, "10.0.0.1", "x", 1));
  const online lost = join(h, make_peer(1, "10.0.0.2", "y", 2));
  h.apply_remote(remote_offline(removed.peer, presence_event::cause::removed));
  h.apply_remote(remote_offline(lost.peer, presence_event::cause::lost));
  EXPECT_EQ(removed.connection->closes(), std::vector<close_reason>{close_reason::removed});
  EXPECT_EQ(lost.connection->closes(), std::vector<close_reason>{close_reason::presence_lost});
  h.leave(removed.peer);  // their own closes afterwards announce nothing more
  h.leave(lost.peer);
  const auto types = observer.connection->types();
  EXPECT_EQ(std::count(types.begin(), types.end(), "peer_offline"), 2);
  EXPECT_EQ(h.online_count(), 1u);
}

TEST_F(hub_epoch_test, changes_made_here_are_published_with_their_epoch) {
  const online a = join(h, make_peer(1, "10.0.0.1", "x", 1));
  h.apply_remote(remote_online(remote_peer("10.0.0.2", "y", 2)));
  bus.events.clear();
  update_request change;
  change.public_port = 1234;
  h.update(a.peer, change);
  EXPECT_TRUE(h.relay(a.peer, "10.0.0.2", R"({"k":1})"));
  h.leave(a.peer);
  ASSERT_EQ(bus.events.size(), 3u);
  EXPECT_EQ(bus.events[0].what, presence_event::kind::update);
  EXPECT_EQ(bus.events[0].peer.reachable.public_port, 1234);
  EXPECT_EQ(bus.events[1].what, presence_event::kind::signal);
  EXPECT_EQ(bus.events[1].target, *domain::parse_ipv4("10.0.0.2"));
  EXPECT_EQ(bus.events[1].target_process, 2);
  EXPECT_EQ(json::parse(bus.events[1].payload).at("data"), (json::object{{"k", 1}}));
  EXPECT_EQ(bus.events[2].what, presence_event::kind::offline);
  EXPECT_EQ(bus.events[2].peer.registration, a.peer.registration);
}

TEST_F(hub_epoch_test, reconciling_announces_what_was_missed) {
  const peer_info gone = remote_peer("10.0.0.1", "gone", 1);
  peer_info moved = remote_peer("10.0.0.2", "moved", 2);
  h.apply_remote(remote_online(gone));
  h.apply_remote(remote_online(moved));
  const std::size_t before = observer.connection->messages().size();

  moved.reachable.public_port = 6000;  // its update was missed
  const peer_info arrived = remote_peer("10.0.0.3", "arrived", 3);
  peer_info self = observer.peer;
  self.process = 1;
  const std::vector<peer_info> table{moved, arrived, self};
  h.reconcile(table, h.join_mark());

  const auto messages = observer.connection->messages();
  ASSERT_EQ(messages.size(), before + 3);
  EXPECT_EQ(messages[before].at("type"), "peer_offline");
  EXPECT_EQ(messages[before].at("peer_id"), "gone");
  EXPECT_EQ(messages[before + 1].at("type"), "peer_update");
  EXPECT_EQ(messages[before + 1].at("peer").at("public_port"), 6000);
  EXPECT_EQ(messages[before + 2].at("type"), "peer_online");
  EXPECT_EQ(messages[before + 2].at("peer").at("peer_id"), "arrived");
  EXPECT_TRUE(observer.connection->closes().empty());
  h.reconcile(table, h.join_mark());  // nothing new the second time
  EXPECT_EQ(observer.connection->messages().size(), before + 3);
}

TEST_F(hub_epoch_test, reconciling_closes_local_registrations_that_are_gone_but_keeps_newer_joins) {
  const online vanished = join(h, make_peer(1, "10.0.0.1", "v", 1));
  const online taken = join(h, make_peer(1, "10.0.0.2", "t", 2));
  const std::uint64_t mark = h.join_mark();
  const online newer = join(h, make_peer(1, "10.0.0.3", "n", 3));  // after the snapshot: not in it
  const peer_info taker = remote_peer("10.0.0.2", "t", 2);
  peer_info self = observer.peer;
  self.process = 1;
  const std::vector<peer_info> table{taker, self};
  h.reconcile(table, mark);
  EXPECT_EQ(vanished.connection->closes(), std::vector<close_reason>{close_reason::presence_lost});
  EXPECT_EQ(taken.connection->closes(), std::vector<close_reason>{close_reason::replaced});
  EXPECT_TRUE(newer.connection->closes().empty());
  const auto online_now = h.online_peers(1);
  ASSERT_EQ(online_now.size(), 3u);
  EXPECT_EQ(online_now[0].peer_id, "t");
  EXPECT_EQ(online_now[0].process, 2);
  EXPECT_EQ(online_now[1].peer_id, "n");
}

TEST_F(hub_epoch_test, reconciling_leaves_this_process_own_rows_to_its_sessions) {
  peer_info joining = make_peer(1, "10.0.0.5", "j", 5);  // claimed, its join still to come
  joining.process = 1;
  peer_info self = observer.peer;
  self.process = 1;
  const std::vector<peer_info> table{joining, self};
  h.reconcile(table, h.join_mark());
  EXPECT_EQ(h.online_peers(1).size(), 1u);
  EXPECT_EQ(observer.connection->types(), std::vector<std::string>{"register_agent_response"});
}

TEST_F(hub_epoch_test, dropping_local_registrations_keeps_the_remote_ones) {
  const online local = join(h, make_peer(1, "10.0.0.1", "x", 1));
  const peer_info remote = remote_peer("10.0.0.2", "y", 2);
  h.apply_remote(remote_online(remote));
  EXPECT_EQ(h.remote_checksum(), (std::pair<std::size_t, std::int64_t>{1, remote.registration}));
  h.drop_local(close_reason::presence_lost);
  EXPECT_EQ(local.connection->closes(), std::vector<close_reason>{close_reason::presence_lost});
  EXPECT_EQ(observer.connection->closes(), std::vector<close_reason>{close_reason::presence_lost});
  ASSERT_EQ(h.online_peers(1).size(), 1u);
  EXPECT_EQ(h.online_peers(1)[0].peer_id, "y");
  EXPECT_EQ(h.online_count(), 0u);
}

// Two hubs, each believing the other is a remote server process. Like the real bus, publish only
// queues (it is called under the publishing hub's organization lock and must not block, let alone
// take the other hub's locks); deliver() hands the queue to the other hub afterwards.
class linked_bus final : public presence_bus {
 public:
  hub* other = nullptr;
  void publish(const presence_event& event) override { queued.push_back(event); }
  bool deliver() {
    const bool any = !queued.empty();
    auto events = std::move(queued);
    queued.clear();
    for (const auto& event : events) other->apply_remote(event);
    return any;
  }
  std::vector<presence_event> queued;
};

class cluster_test : public testing::Test {
 protected:
  cluster_test() {
    bus_a.other = &b;
    bus_b.other = &a;
  }
  /// What each process published reaches the other (as the listener would deliver it).
  void settle() {
    for (;;) {
      const bool from_a = bus_a.deliver();  // both, every round: not a short-circuit ||
      const bool from_b = bus_b.deliver();
      if (!from_a && !from_b) return;
    }
  }
  linked_bus bus_a, bus_b;
  hub a{bus_a, 1};
  hub b{bus_b, 2};
};

TEST_F(cluster_test, peers_on_another_process_are_seen_announced_and_reachable) {
  const online on_a = join(a, make_peer(1, "10.0.0.1", "x", 1));
  settle();
  const online on_b = join(b, make_peer(1, "10.0.0.2", "y", 2));
  settle();
  EXPECT_EQ(on_b.connection->last().at("existing_peers").as_array().size(), 1u);
  EXPECT_EQ(on_a.connection->last().at("type"), "peer_online");

  EXPECT_TRUE(b.relay(on_b.peer, "10.0.0.1", R"("hello")"));
  settle();
  EXPECT_EQ(on_a.connection->last().at("type"), "signal");
  EXPECT_EQ(on_a.connection->last().at("data"), "hello");

  update_request change;
  change.public_port = 4242;
  b.update(on_b.peer, change);
  settle();
  EXPECT_EQ(on_a.connection->last().at("peer").at("public_port"), 4242);

  b.leave(on_b.peer);
  settle();
  EXPECT_EQ(on_a.connection->last().at("type"), "peer_offline");
  EXPECT_EQ(a.online_count(), 1u);
}

TEST_F(cluster_test, a_take_over_on_another_process_closes_the_local_connection) {
  const online watcher = join(a, make_peer(1, "10.0.0.9", "w", 9));
  const online old = join(a, make_peer(1, "10.0.0.1", "x", 1, "old"));
  settle();
  const online fresh = join(b, make_peer(1, "10.0.0.1", "x", 1, "new"));
  settle();
  EXPECT_EQ(old.connection->closes(), std::vector<close_reason>{close_reason::replaced});
  EXPECT_EQ(watcher.connection->types(),
            (std::vector<std::string>{"register_agent_response", "peer_online", "peer_offline", "peer_online"}));
  a.leave(old.peer);  // late close on the first process
  settle();
  ASSERT_EQ(a.online_peers(1).size(), 2u);
  EXPECT_EQ(b.online_peers(1).size(), 2u);
}

}  // namespace
