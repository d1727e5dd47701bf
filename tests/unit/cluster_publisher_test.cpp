// The cluster's publisher (cluster/publisher.hpp) against a fake cluster store: registrations
// claimed, joined to the hub in order and answered; presence events written with their
// notifications; a database that is unavailable (registrations refused at once, events kept and
// sent when it is back); a process declared dead; reaping only after writing has been reliable.
#include "cluster/publisher.hpp"

#include "cluster/payloads.hpp"
#include "hub_test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace {

using namespace hub_testing;
using namespace std::chrono_literals;
using sig::cluster::channels;
using sig::cluster::cluster_config;
using sig::cluster::publisher;
using sig::cluster::registration;
using sig::cluster::registration_outcome;
using event = presence_event;
namespace store = sig::store;

/// Records what the publisher writes; fails on demand.
class fake_cluster_store final : public store::cluster_store {
 public:
  std::string channel_prefix() override { return "test"; }
  std::unique_ptr<store::notification_listener> listen(const std::vector<std::string>&) override { return nullptr; }
  domain::process_id join_cluster(std::string_view) override { return 1; }

  bool heartbeat(domain::process_id, std::string_view) override {
    std::lock_guard lock(mutex);
    ++heartbeats;
    calls.push_back('h');
    if (unavailable > 0) throw store::store_unavailable("database down");
    changed.notify_all();
    if (dead_after_heartbeats > 0 && --dead_after_heartbeats == 0) return false;
    return std::exchange(declared_dead, false) ? false : true;
  }

  std::vector<domain::peer_info> reap(domain::process_id, std::chrono::milliseconds,
                                      const store::removal_announcer& announce) override {
    std::lock_guard lock(mutex);
    if (unavailable > 0) throw store::store_unavailable("database down");
    ++reaps;
    auto rows = std::exchange(dead_rows, {});
    for (auto& n : announce(rows)) sent.push_back(std::move(n));
    changed.notify_all();
    return rows;
  }

  std::vector<sig::result<store::claimed_presence>> publish(const store::presence_batch& batch,
                                                            const store::claim_announcer& announce) override {
    std::lock_guard lock(mutex);
    if (unavailable > 0) {
      --unavailable;
      throw store::store_unavailable("database down");
    }
    calls.push_back('p');
    std::this_thread::sleep_for(publish_takes);
    std::vector<sig::result<store::claimed_presence>> outcomes;
    for (const auto& claim : batch.claims) {
      if (claim.user_id == refused_user) {
        outcomes.push_back(sig::fail(sig::errc::address_not_found));
        continue;
      }
      store::claimed_presence claimed;
      claimed.peer = claim.peer;
      claimed.peer.user_id = claim.user_id;
      claimed.peer.organization_id = 1;
      claimed.peer.virtual_ip = *domain::parse_ipv4("10.0.0.0") + static_cast<domain::ipv4>(claim.user_id);
      claimed.peer.registration = ++last_epoch;
      claimed.target.organization.subnet = subnet;
      outcomes.push_back(claimed);
    }
    batches.push_back(batch);
    for (auto& n : announce(outcomes)) sent.push_back(std::move(n));
    changed.notify_all();
    return outcomes;
  }

  void leave_cluster(domain::process_id, const store::removal_announcer&) override {
    std::lock_guard lock(mutex);
    left = true;
  }
  std::vector<domain::peer_info> online_peers(sig::domain::id) override { return {}; }
  std::string shared_setting(std::string_view, std::string_view proposed) override { return std::string(proposed); }
  void replace_shared_setting(std::string_view, std::string_view) override {}

  /// Waits (at most 5 s) until `done()` holds, under the lock.
  bool wait_for(const std::function<bool()>& done) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 5s, done);
  }

  /// The events of every notification sent so far, with their channels, in order.
  std::vector<std::pair<std::string, event>> sent_events() {
    std::lock_guard lock(mutex);
    std::vector<std::pair<std::string, event>> all;
    for (const auto& n : sent) {
      auto payload = sig::cluster::unpack(n.payload);
      if (!payload) throw std::runtime_error(payload.error());
      for (auto& e : payload->events) all.emplace_back(n.channel, std::move(e));
    }
    return all;
  }

  std::mutex mutex;
  std::condition_variable changed;
  int unavailable = 0;  // the next calls that throw store_unavailable
  bool declared_dead = false;
  int dead_after_heartbeats = 0;  // > 0: that heartbeat finds this process declared dead
  bool left = false;
  int heartbeats = 0;
  int reaps = 0;
  std::chrono::milliseconds publish_takes{0};  // how long each publish lasts (a slow transaction)
  std::string calls;                           // 'p' a publish, 'h' a heartbeat, in order
  sig::domain::id refused_user = -1;
  domain::epoch last_epoch = 100;
  std::vector<domain::peer_info> dead_rows;
  std::vector<store::presence_batch> batches;
  std::vector<store::notification> sent;
};

struct answer {
  std::mutex mutex;
  std::vector<registration_outcome> outcomes;
  void add(registration_outcome o) {
    std::lock_guard lock(mutex);
    outcomes.push_back(std::move(o));
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return outcomes.size();
  }
};

class publisher_test : public testing::Test {
 protected:
  ~publisher_test() override { writer.stop(0ms); }

  static cluster_config short_timings() {
    cluster_config c;
    c.dead_after = 500ms;  // heartbeats every 100 ms, reaping every 50 ms
    return c;
  }

  registration claim_for(domain::id user, std::shared_ptr<sig::signaling::peer_connection> connection) {
    registration r;
    r.claim.user_id = user;
    r.claim.peer.peer_id = "p" + std::to_string(user);
    r.claim.peer.connection_id = "c" + std::to_string(user);
    r.claim.peer.process = 1;
    r.connection = std::move(connection);
    r.done = [this](registration_outcome o) { answers.add(std::move(o)); };
    return r;
  }

  fake_cluster_store db;
  cluster_config config = short_timings();
  recording_bus bus;
  hub h{bus, 1};
  sig::telemetry::metrics figures{{}, {}, {}};
  publisher writer{db, h, figures, config, 1, channels{"test"}};
  answer answers;
};

TEST_F(publisher_test, registrations_are_claimed_joined_in_order_and_answered) {
  writer.start({});
  const auto first = std::make_shared<fake_connection>();
  const auto second = std::make_shared<fake_connection>();
  const auto refused = std::make_shared<fake_connection>();
  db.refused_user = 9;
  writer.enqueue(claim_for(1, first));
  writer.enqueue(claim_for(2, second));
  writer.enqueue(claim_for(9, refused));
  ASSERT_TRUE(db.wait_for([&] { return db.batches.size() >= 1; }));
  for (int i = 0; i < 500 && answers.size() < 3; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(answers.size(), 3u);
  ASSERT_TRUE(answers.outcomes[0].has_value() && answers.outcomes[0]->has_value());
  EXPECT_EQ((*answers.outcomes[0])->registration, 101);
  EXPECT_EQ((*answers.outcomes[1])->registration, 102);
  EXPECT_EQ(answers.outcomes[2].error().code, sig::errc::address_not_found);
  // Joined to the hub: the second was told about the first.
  EXPECT_EQ(first->messages().at(0).at("type"), "register_agent_response");
  EXPECT_EQ(second->messages().at(0).at("existing_peers").as_array().size(), 1u);
  EXPECT_TRUE(refused->messages().empty());
  // Announced to the others, with their epochs.
  const auto sent = db.sent_events();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].first, "test_presence");
  EXPECT_EQ(sent[0].second.what, event::kind::online);
  EXPECT_EQ(sent[0].second.peer.registration, 101);
  EXPECT_EQ(sent[1].second.peer.registration, 102);
}

// Each registration is joined to the hub on the publisher's thread, which in a large organization
// costs milliseconds: a long queue of them goes in batches with the heartbeat between, so that the
// others do not declare a busy process dead (they did, at 10,000 peers in one organization).
TEST_F(publisher_test, a_long_queue_of_registrations_goes_in_batches_with_heartbeats_between) {
  db.publish_takes = 40ms;  // heartbeats are due every 100 ms
  constexpr int queued = 250;
  std::vector<std::shared_ptr<fake_connection>> connections;
  for (int user = 1; user <= queued; ++user) {
    connections.push_back(std::make_shared<fake_connection>());
    writer.enqueue(claim_for(user, connections.back()));
  }
  writer.start({});
  for (int i = 0; i < 1000 && answers.size() < queued; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(answers.size(), static_cast<std::size_t>(queued));
  std::lock_guard lock(db.mutex);
  ASSERT_EQ(db.batches.size(), 4u);  // 64 + 64 + 64 + 58
  for (const auto& batch : db.batches) EXPECT_LE(batch.claims.size(), publisher::registrations_per_batch);
  // Joined in order across batches: the last was told about every earlier one.
  EXPECT_EQ(connections.back()->messages().at(0).at("existing_peers").as_array().size(), queued - 1u);
  // Never four batches (160 ms) in a row without the heartbeat due every 100 ms.
  const auto publishes = db.calls.substr(0, db.calls.rfind('p') + 1);
  EXPECT_EQ(publishes.find("pppp"), std::string::npos) << db.calls;
}

/// A connection that takes its time to accept a message, as a join's work does in a large
/// organization on a machine short of CPU.
class slow_connection final : public sig::signaling::peer_connection {
 public:
  void deliver(shared_message) override {
    if (!answered_.exchange(true)) std::this_thread::sleep_for(25ms);  // its own answer, once
  }
  void disconnect(close_reason) override {}

 private:
  std::atomic<bool> answered_{false};
};

TEST_F(publisher_test, the_heartbeat_goes_on_between_the_joins_of_a_long_batch) {
  constexpr int queued = 20;  // one batch, joined in 500 ms or more; heartbeats are due every 100 ms
  for (int user = 1; user <= queued; ++user) writer.enqueue(claim_for(user, std::make_shared<slow_connection>()));
  writer.start({});
  for (int i = 0; i < 1000 && answers.size() < queued; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(answers.size(), static_cast<std::size_t>(queued));
  std::lock_guard lock(db.mutex);
  ASSERT_EQ(db.batches.size(), 1u);
  // The batch, then heartbeats while it was being joined (before this change: one, after it).
  EXPECT_EQ(db.calls.front(), 'p') << db.calls;
  EXPECT_GE(db.heartbeats, 4) << db.calls;
}

TEST_F(publisher_test, a_process_declared_dead_during_a_batch_closes_its_agents_after_it) {
  std::atomic<bool> reconciliation{false};
  const auto first = std::make_shared<fake_connection>();
  const auto last = std::make_shared<fake_connection>();
  writer.enqueue(claim_for(1, first));
  for (int user = 2; user < 20; ++user) writer.enqueue(claim_for(user, std::make_shared<slow_connection>()));
  writer.enqueue(claim_for(20, last));
  {
    std::lock_guard lock(db.mutex);
    db.dead_after_heartbeats = 2;  // the heartbeat during the joins finds the row gone
  }
  writer.start([&] { reconciliation = true; });
  for (int i = 0; i < 1000 && !reconciliation; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(reconciliation);
  // Every agent of the batch, the ones joined after that heartbeat too, is closed.
  EXPECT_EQ(first->closes(), std::vector<close_reason>{close_reason::presence_lost});
  EXPECT_EQ(last->closes(), std::vector<close_reason>{close_reason::presence_lost});
  EXPECT_EQ(h.online_count(), 0u);
}

TEST_F(publisher_test, presence_events_are_written_and_announced_in_their_order) {
  writer.start({});
  peer_info left = make_peer(1, "10.0.0.1", "left", 1);
  peer_info moved = make_peer(1, "10.0.0.2", "moved", 2);
  writer.enqueue(event{event::kind::online, event::cause::left, left, 0, 0, {}});  // announced by its claim
  writer.enqueue(event{event::kind::signal, event::cause::left, moved, left.virtual_ip, 7, R"({"type":"signal"})"});
  writer.enqueue(event{event::kind::update, event::cause::left, moved, 0, 0, {}});
  writer.enqueue(event{event::kind::offline, event::cause::left, left, 0, 0, {}});
  ASSERT_TRUE(db.wait_for([&] {
    std::size_t events = 0;
    for (const auto& b : db.batches) events += b.ended.size() + b.updated.size();
    return events >= 2;
  }));
  const auto sent = db.sent_events();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].first, "test_process_7");
  EXPECT_EQ(sent[0].second.what, event::kind::signal);
  EXPECT_EQ(sent[1].second.what, event::kind::update);
  EXPECT_EQ(sent[2].second.what, event::kind::offline);
  EXPECT_EQ(sent[2].first, "test_presence");
}

TEST_F(publisher_test, an_unavailable_database_refuses_registrations_at_once_and_keeps_the_events) {
  db.unavailable = 2;
  writer.start({});
  const auto connection = std::make_shared<fake_connection>();
  writer.enqueue(claim_for(1, connection));
  for (int i = 0; i < 500 && answers.size() < 1; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers.outcomes[0].error().code, sig::errc::overloaded);
  EXPECT_FALSE(writer.healthy());
  EXPECT_TRUE(connection->messages().empty());

  writer.enqueue(event{event::kind::offline, event::cause::left, make_peer(1, "10.0.0.3", "x", 3), 0, 0, {}});
  // The event waits out the failures, then goes, once.
  ASSERT_TRUE(db.wait_for([&] { return !db.batches.empty(); }));
  EXPECT_EQ(db.batches[0].ended.size(), 1u);
  for (int i = 0; i < 200 && !writer.healthy(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(writer.healthy());
  EXPECT_EQ(db.sent_events().size(), 1u);
}

TEST_F(publisher_test, a_process_declared_dead_closes_its_agents_and_asks_for_reconciliation) {
  const online here = join(h, make_peer(1, "10.0.0.1", "here", 1));
  std::atomic<bool> reconciliation{false};
  db.declared_dead = true;
  writer.start([&] { reconciliation = true; });
  for (int i = 0; i < 500 && !reconciliation; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(reconciliation);
  EXPECT_EQ(here.connection->closes(), std::vector<close_reason>{close_reason::presence_lost});
  EXPECT_EQ(h.online_count(), 0u);
}

TEST_F(publisher_test, reaped_peers_go_offline_here_too_and_only_after_writing_was_reliable) {
  const peer_info dead = make_peer(1, "10.0.0.5", "dead", 5);
  h.apply_remote(event{event::kind::online, event::cause::left, dead, 0, 0, {}});
  const online watcher = join(h, make_peer(1, "10.0.0.9", "watcher", 9));
  db.dead_rows = {dead};
  const auto started = std::chrono::steady_clock::now();
  writer.start({});
  ASSERT_TRUE(db.wait_for([&] { return db.reaps > 0; }));
  EXPECT_GE(std::chrono::steady_clock::now() - started, config.dead_after);  // not before
  for (int i = 0; i < 200 && watcher.connection->types().size() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(watcher.connection->types(), (std::vector<std::string>{"register_agent_response", "peer_offline"}));
  const auto sent = db.sent_events();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].second.why, event::cause::lost);
}

TEST_F(publisher_test, stopping_sends_what_is_queued_then_leaves_the_cluster) {
  writer.start({});
  writer.enqueue(event{event::kind::offline, event::cause::left, make_peer(1, "10.0.0.3", "x", 3), 0, 0, {}});
  writer.stop(2s);
  std::lock_guard lock(db.mutex);
  std::size_t ended = 0;
  for (const auto& b : db.batches) ended += b.ended.size();
  EXPECT_EQ(ended, 1u);
  EXPECT_TRUE(db.left);
}

}  // namespace
