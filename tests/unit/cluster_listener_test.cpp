// The cluster's listener (cluster/listener.hpp) against a fake LISTEN connection: it reconciles
// the hub with the presence table before applying notifications, applies the other processes'
// events and ignores its own, and after losing its connection, or when the table's checksum
// disagrees with the hub, reconciles again, so that what it missed reaches the local agents.
#include "cluster/listener.hpp"

#include "cluster/payloads.hpp"
#include "hub_test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

namespace {

using namespace hub_testing;
using namespace std::chrono_literals;
using sig::cluster::channels;
using sig::cluster::cluster_config;
using sig::cluster::listener;
using sig::cluster::payload_packer;
using event = presence_event;
namespace store = sig::store;

// What the fake database holds: the presence table, and notifications waiting to be heard.
struct fake_database {
  std::mutex mutex;
  std::vector<peer_info> table;
  std::deque<store::notification> pending;
  int connections = 0;
  int lose_connection_after_waits = -1;  // -1: never
  std::pair<std::size_t, std::int64_t> checksum{0, 0};
};

class fake_listener final : public store::notification_listener {
 public:
  explicit fake_listener(fake_database& db) : db_(db) {}
  std::vector<store::notification> wait(std::chrono::milliseconds) override {
    std::this_thread::sleep_for(5ms);
    std::lock_guard lock(db_.mutex);
    if (db_.lose_connection_after_waits == 0) {
      db_.lose_connection_after_waits = -1;
      throw store::store_unavailable("connection lost");
    }
    if (db_.lose_connection_after_waits > 0) --db_.lose_connection_after_waits;
    std::vector<store::notification> arrived(db_.pending.begin(), db_.pending.end());
    db_.pending.clear();
    return arrived;
  }
  std::vector<peer_info> presence_snapshot() override {
    std::lock_guard lock(db_.mutex);
    return db_.table;
  }
  std::pair<std::size_t, std::int64_t> presence_checksum(domain::process_id) override {
    std::lock_guard lock(db_.mutex);
    return db_.checksum;
  }

 private:
  fake_database& db_;
};

class fake_cluster_store final : public store::cluster_store {
 public:
  explicit fake_cluster_store(fake_database& db) : db_(db) {}
  std::string channel_prefix() override { return "test"; }
  std::unique_ptr<store::notification_listener> listen(const std::vector<std::string>&) override {
    std::lock_guard lock(db_.mutex);
    ++db_.connections;
    return std::make_unique<fake_listener>(db_);
  }
  domain::process_id join_cluster(std::string_view) override { return 1; }
  bool heartbeat(domain::process_id, std::string_view) override { return true; }
  std::vector<peer_info> reap(domain::process_id, std::chrono::milliseconds, const store::removal_announcer&) override {
    return {};
  }
  std::vector<sig::result<store::claimed_presence>> publish(const store::presence_batch&,
                                                            const store::claim_announcer&) override {
    return {};
  }
  void leave_cluster(domain::process_id, const store::removal_announcer&) override {}
  std::vector<peer_info> online_peers(domain::id) override { return {}; }
  std::string shared_setting(std::string_view, std::string_view proposed) override { return std::string(proposed); }
  void replace_shared_setting(std::string_view, std::string_view) override {}

 private:
  fake_database& db_;
};

peer_info of_process(peer_info peer, domain::process_id process) {
  peer.process = process;
  return peer;
}

class listener_test : public testing::Test {
 protected:
  ~listener_test() override { ear.stop(); }

  static cluster_config short_timings() {
    cluster_config c;
    c.dead_after = 300ms;  // the checksum is compared every 300 ms
    return c;
  }

  void notify(domain::process_id origin, const event& e) {
    payload_packer packer(origin, 7800);
    std::lock_guard lock(db.mutex);
    for (auto& payload : packer.pack(std::vector<event>{e})) db.pending.push_back({"test_presence", payload});
  }

  /// Waits until `agent` has received `count` messages (at most 5 s).
  static std::vector<std::string> types_after(const online& agent, std::size_t count) {
    for (int i = 0; i < 500 && agent.connection->messages().size() < count; ++i) std::this_thread::sleep_for(10ms);
    return agent.connection->types();
  }

  fake_database db;
  fake_cluster_store store_{db};
  recording_bus bus;
  hub h{bus, 1};
  sig::telemetry::metrics figures{{}, {}, {}};
  listener ear{store_, h, figures, short_timings(), 1, channels{"test"}};
};

TEST_F(listener_test, starts_from_the_table_then_applies_the_others_news_but_not_its_own) {
  const peer_info there = of_process(make_peer(1, "10.0.0.2", "there", 2), 2);
  const online local = join(h, of_process(make_peer(1, "10.0.0.1", "local", 1), 1));
  db.table = {there, local.peer};
  ear.start();
  EXPECT_EQ(types_after(local, 2), (std::vector<std::string>{"register_agent_response", "peer_online"}));
  for (int i = 0; i < 500 && !ear.connected(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(ear.connected());

  notify(1, event{event::kind::offline, event::cause::left, there, 0, 0, {}});  // its own: ignored
  const peer_info newcomer = of_process(make_peer(1, "10.0.0.3", "newcomer", 3), 2);
  notify(2, event{event::kind::online, event::cause::left, newcomer, 0, 0, {}});
  EXPECT_EQ(types_after(local, 3), (std::vector<std::string>{"register_agent_response", "peer_online", "peer_online"}));
  EXPECT_EQ(local.connection->last().at("peer").at("peer_id"), "newcomer");
  EXPECT_EQ(h.online_peers(1).size(), 3u);
  EXPECT_TRUE(local.connection->closes().empty());
}

TEST_F(listener_test, after_losing_its_connection_it_reconciles_and_the_agents_learn_what_they_missed) {
  const peer_info gone = of_process(make_peer(1, "10.0.0.2", "gone", 2), 2);
  const online local = join(h, of_process(make_peer(1, "10.0.0.1", "local", 1), 1));
  db.table = {gone, local.peer};
  ear.start();
  ASSERT_EQ(types_after(local, 2), (std::vector<std::string>{"register_agent_response", "peer_online"}));
  const auto first = ear.reconciliations();

  // While the connection is down, "gone" leaves and "arrived" comes: nobody is notified.
  const peer_info arrived = of_process(make_peer(1, "10.0.0.4", "arrived", 4), 2);
  {
    std::lock_guard lock(db.mutex);
    db.table = {arrived, local.peer};
    db.lose_connection_after_waits = 0;
  }
  EXPECT_EQ(types_after(local, 4),
            (std::vector<std::string>{"register_agent_response", "peer_online", "peer_offline", "peer_online"}));
  EXPECT_GT(ear.reconciliations(), first);
  EXPECT_GE(db.connections, 2);
}

TEST_F(listener_test, a_checksum_that_disagrees_with_the_hub_brings_a_reconciliation) {
  const online local = join(h, of_process(make_peer(1, "10.0.0.1", "local", 1), 1));
  db.table = {local.peer};
  ear.start();
  for (int i = 0; i < 500 && !ear.connected(); ++i) std::this_thread::sleep_for(10ms);
  const peer_info unheard = of_process(make_peer(1, "10.0.0.5", "unheard", 5), 3);
  {
    std::lock_guard lock(db.mutex);  // a row whose notification never came
    db.table = {unheard, local.peer};
    db.checksum = {1, unheard.registration};
  }
  EXPECT_EQ(types_after(local, 2), (std::vector<std::string>{"register_agent_response", "peer_online"}));
  EXPECT_EQ(local.connection->last().at("peer").at("peer_id"), "unheard");
}

}  // namespace
