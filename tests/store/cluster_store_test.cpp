// The cluster's tables in PostgreSQL (store/cluster_store.hpp), with two or three store objects on
// one database standing in for server processes: registrations claimed with epochs, removals that
// win against claims in flight, notifications (long ones included) that go out with their
// transaction or not at all, dead processes reaped exactly once, shared settings.
#include "store/cluster_store.hpp"
#include "postgres_test_database.hpp"
#include "store/open_store.hpp"
#include "store_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

namespace store_test {
namespace {

using namespace std::chrono_literals;
using sig::store::claimed_presence;
using sig::store::notification;
using sig::store::presence_batch;
using sig::store::presence_claim;

class ClusterStore : public testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_TEST_POSTGRES(url);
    schema = std::make_unique<postgres_schema>(*url);
    a = open();
    b = open();
    owner = must(a->create_user({"owner@example.com", "h", 1, "stamp"}), "owner");
    alice = must(a->create_user({"alice@example.com", "h", 1, "stamp"}), "alice");
    bob = must(a->create_user({"bob@example.com", "h", 1, "stamp"}), "bob");
    org = a->create_organization({"Acme", subnet("10.0.0.0/24"), domain::join_policy::open, owner.user_id, 1});
    must(a->join({org.organization_id, alice.user_id, std::nullopt, 2}), "alice joins");
    must(a->join({org.organization_id, bob.user_id, std::nullopt, 2}), "bob joins");
  }

  std::unique_ptr<st::store> open() {
    return sig::store::open_store({sig::store::backend::postgres, schema->url()}, 4);
  }
  static st::cluster_store& cluster(const std::unique_ptr<st::store>& s) { return *s->cluster(); }

  presence_claim claim_of(const domain::user& u, domain::process_id process, std::optional<std::string> agent = {}) {
    presence_claim c;
    c.user_id = u.user_id;
    c.organization_id = org.organization_id;
    c.agent_id = agent;
    c.peer.peer_id = agent.value_or("peer-000000000000");
    c.peer.agent_id = agent;
    c.peer.reachable = {"203.0.113.7", 40000, std::nullopt, std::nullopt};
    c.peer.connection_id = "connection-" + std::to_string(++connections_);
    c.peer.process = process;
    return c;
  }

  /// One claim through `s`'s publisher, announcing nothing.
  sig::result<claimed_presence> claim(const std::unique_ptr<st::store>& s, const presence_claim& c) {
    presence_batch batch;
    batch.claims.push_back(c);
    return cluster(s).publish(batch, [](auto) { return std::vector<notification>{}; }).front();
  }

  std::unique_ptr<postgres_schema> schema;
  std::unique_ptr<st::store> a, b;
  domain::user owner, alice, bob;
  domain::organization org;

 private:
  std::atomic<int> connections_{0};  // the racing tests make candidates from two threads
};

TEST_F(ClusterStore, AClaimLandsWhereTheRegistrationDoesAndALaterOneReplacesIt) {
  ASSERT_TRUE(a->allocate({org.organization_id, alice.user_id, "", std::nullopt, 3}).has_value());
  ASSERT_TRUE(a->allocate({org.organization_id, alice.user_id, "laptop", std::nullopt, 4}).has_value());
  const auto first = claim(a, claim_of(alice, 1, "laptop"));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->target.allocation.address, ip("10.0.0.2"));
  EXPECT_EQ(first->peer.virtual_ip, ip("10.0.0.2"));
  EXPECT_EQ(first->peer.email, "alice@example.com");
  EXPECT_EQ(first->peer.organization_id, org.organization_id);
  EXPECT_GT(first->peer.registration, 0);

  const auto second = claim(b, claim_of(alice, 2, "laptop"));  // another process takes over
  ASSERT_TRUE(second.has_value());
  EXPECT_GT(second->peer.registration, first->peer.registration);
  const auto online = cluster(a).online_peers(org.organization_id);
  ASSERT_EQ(online.size(), 1u);
  EXPECT_EQ(online[0].registration, second->peer.registration);
  EXPECT_EQ(online[0].process, 2);
  EXPECT_EQ(online[0].connection_id, second->peer.connection_id);
  EXPECT_EQ(online[0].reachable.public_port, 40000);

  EXPECT_EQ(claim(a, claim_of(bob, 1)).error().code, errc::address_not_found);
  const auto stranger = must(a->create_user({"stranger@example.com", "h", 1, "stamp"}), "stranger");
  EXPECT_EQ(claim(a, claim_of(stranger, 1)).error().code, errc::not_a_member);
}

TEST_F(ClusterStore, ABatchOfClaimsIsDecidedInOrder) {
  ASSERT_TRUE(a->allocate({org.organization_id, alice.user_id, "", std::nullopt, 3}).has_value());
  const auto stranger = must(a->create_user({"stranger@example.com", "h", 1, "stamp"}), "stranger");
  presence_batch batch;
  batch.claims = {claim_of(alice, 1), claim_of(bob, 1), claim_of(stranger, 1), claim_of(alice, 1)};
  for (int i = 0; i < 100; ++i) batch.claims.push_back(claim_of(alice, 1));  // more than one round trip
  const auto outcomes = cluster(a).publish(batch, [](auto) { return std::vector<notification>{}; });
  ASSERT_EQ(outcomes.size(), batch.claims.size());
  EXPECT_EQ(outcomes[1].error().code, errc::address_not_found);
  EXPECT_EQ(outcomes[2].error().code, errc::not_a_member);
  domain::epoch last = 0;
  for (std::size_t i : {std::size_t{0}, std::size_t{3}, outcomes.size() - 1}) {
    ASSERT_TRUE(outcomes[i].has_value()) << i;
    EXPECT_GT(outcomes[i]->peer.registration, last) << i;
    last = outcomes[i]->peer.registration;
  }
  const auto online = cluster(a).online_peers(org.organization_id);
  ASSERT_EQ(online.size(), 1u);
  EXPECT_EQ(online[0].registration, last);
  EXPECT_EQ(online[0].connection_id, batch.claims.back().peer.connection_id);
}

TEST_F(ClusterStore, TakeOverRacesLeaveTheRowOfTheLargestEpoch) {
  ASSERT_TRUE(a->allocate({org.organization_id, alice.user_id, "", std::nullopt, 3}).has_value());
  constexpr int rounds = 60;
  for (int round = 0; round < rounds; ++round) {
    sig::result<claimed_presence> x = sig::fail(errc::internal), y = sig::fail(errc::internal);
    std::thread other([&] { y = claim(b, claim_of(alice, 2)); });
    x = claim(a, claim_of(alice, 1));
    other.join();
    ASSERT_TRUE(x.has_value() && y.has_value());
    const auto online = cluster(a).online_peers(org.organization_id);
    ASSERT_EQ(online.size(), 1u);
    EXPECT_EQ(online[0].registration, std::max(x->peer.registration, y->peer.registration)) << "round " << round;
  }
}

// The owner removes Alice while her agent registers through another process: once the removal
// has answered, Alice is not online, and a claim that got in first was ended by the removal.
TEST_F(ClusterStore, ARemovalWinsAgainstARegistrationInFlight) {
  constexpr int rounds = 150;
  int claimed_first = 0;
  for (int round = 0; round < rounds; ++round) {
    if (round > 0) must(a->join({org.organization_id, alice.user_id, std::nullopt, 5}), "alice joins again");
    const auto address = must(a->allocate({org.organization_id, alice.user_id, "", std::nullopt, 6}), "allocate");
    sig::result<claimed_presence> claimed = sig::fail(errc::internal);
    std::thread registering([&] { claimed = claim(b, claim_of(alice, 2)); });
    const auto removed = a->remove_member({org.organization_id, owner.user_id, alice.user_id});
    registering.join();
    ASSERT_TRUE(removed.has_value());
    EXPECT_TRUE(cluster(a).online_peers(org.organization_id).empty()) << "round " << round;
    if (claimed) {
      ++claimed_first;
      const domain::ended_presence expected{address.address, claimed->peer.registration};
      EXPECT_NE(std::find(removed->went_offline.begin(), removed->went_offline.end(), expected),
                removed->went_offline.end())
          << "round " << round;
    } else {
      EXPECT_TRUE(claimed.error().code == errc::not_a_member || claimed.error().code == errc::address_not_found);
    }
  }
  RecordProperty("claims_that_got_in_first", claimed_first);
}

TEST_F(ClusterStore, AReleaseEndsTheRegistrationOnTheAddress) {
  const auto address = must(a->allocate({org.organization_id, alice.user_id, "", std::nullopt, 3}), "allocate");
  const auto claimed = claim(b, claim_of(alice, 2));
  ASSERT_TRUE(claimed.has_value());
  const auto released = a->release({org.organization_id, alice.user_id, address.address});
  ASSERT_TRUE(released.has_value());
  EXPECT_EQ(released->went_offline,
            (std::vector<domain::ended_presence>{{address.address, claimed->peer.registration}}));
  EXPECT_TRUE(cluster(a).online_peers(org.organization_id).empty());
}

TEST_F(ClusterStore, EndsAndUpdatesOnlyTouchTheirOwnRegistration) {
  ASSERT_TRUE(a->allocate({org.organization_id, alice.user_id, "", std::nullopt, 3}).has_value());
  const auto old = must(claim(a, claim_of(alice, 1)), "old");
  const auto current = must(claim(a, claim_of(alice, 1)), "current");
  presence_batch late;
  domain::peer_info moved = old.peer;
  moved.reachable.public_port = 1;
  late.updated.push_back(moved);
  late.ended.push_back(old.peer);  // the replaced registration's close, arriving late
  cluster(a).publish(late, [](auto) { return std::vector<notification>{}; });
  auto online = cluster(a).online_peers(org.organization_id);
  ASSERT_EQ(online.size(), 1u);
  EXPECT_EQ(online[0].registration, current.peer.registration);
  EXPECT_EQ(online[0].reachable.public_port, 40000);

  presence_batch own;
  moved = current.peer;
  moved.reachable.public_port = 2;
  moved.reachable.relay_ip = "198.51.100.1";
  moved.reachable.relay_port = 3478;
  own.updated.push_back(moved);
  cluster(a).publish(own, [](auto) { return std::vector<notification>{}; });
  online = cluster(a).online_peers(org.organization_id);
  EXPECT_EQ(online.at(0).reachable, moved.reachable);
  presence_batch leaving;
  leaving.ended.push_back(current.peer);
  cluster(a).publish(leaving, [](auto) { return std::vector<notification>{}; });
  EXPECT_TRUE(cluster(a).online_peers(org.organization_id).empty());
}

TEST_F(ClusterStore, NotificationsArriveInOrderLongOnesIntactAndOnlyWhenTheirBatchCommits) {
  const std::string channel = cluster(a).channel_prefix() + "_test";
  EXPECT_EQ(cluster(b).channel_prefix() + "_test", channel);  // one cluster per schema
  auto listener = cluster(b).listen({channel});
  const std::string long_payload(20000, 'x');  // beyond NOTIFY's 8000 bytes

  EXPECT_THROW(
      cluster(a).publish({}, [&](auto) -> std::vector<notification> { throw std::runtime_error("composing failed"); }),
      std::runtime_error);
  // PostgreSQL delivers a payload repeated within one transaction once: the cluster numbers its
  // payloads, so that none is lost that way.
  cluster(a).publish({}, [&](auto) {
    return std::vector<notification>{{channel, "1"}, {channel, long_payload}, {channel, "3"}, {channel, "3"}};
  });
  std::vector<std::string> received;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (received.size() < 3 && std::chrono::steady_clock::now() < deadline)
    for (const auto& n : listener->wait(200ms)) received.push_back(n.payload);
  ASSERT_EQ(received.size(), 3u);  // the failed batch sent nothing
  EXPECT_EQ(received[0], "1");
  EXPECT_EQ(received[1], long_payload);
  EXPECT_EQ(received[2], "3");
  EXPECT_TRUE(listener->wait(300ms).empty());
}

TEST_F(ClusterStore, ADeadProcessIsReapedOnceAndItsRowsAnnouncedOnce) {
  auto c = open();
  const auto dead = cluster(a).join_cluster("a");
  const auto survivor = cluster(b).join_cluster("b");
  const auto another = cluster(c).join_cluster("c");
  for (const auto& u : {alice, bob}) {
    ASSERT_TRUE(a->allocate({org.organization_id, u.user_id, "", std::nullopt, 3}).has_value());
    ASSERT_TRUE(claim(a, claim_of(u, dead)).has_value());
  }
  EXPECT_TRUE(cluster(b).reap(survivor, 60s, [](auto) { return std::vector<notification>{}; }).empty());

  schema->execute("UPDATE processes SET heartbeat_at = now() - interval '1 hour' WHERE id = " + std::to_string(dead));
  std::atomic<std::size_t> announced{0};
  const auto announce = [&](std::span<const domain::peer_info> rows) {
    announced += rows.size();
    return std::vector<notification>{};
  };
  std::vector<domain::peer_info> by_b, by_c;
  std::thread racing([&] { by_c = cluster(c).reap(another, 5s, announce); });
  by_b = cluster(b).reap(survivor, 5s, announce);
  racing.join();
  EXPECT_EQ(by_b.size() + by_c.size(), 2u);
  EXPECT_EQ(announced.load(), 2u);
  std::set<domain::ipv4> reaped;
  for (const auto& rows : {by_b, by_c})
    for (const auto& p : rows) reaped.insert(p.virtual_ip);
  EXPECT_EQ(reaped, (std::set<domain::ipv4>{ip("10.0.0.1"), ip("10.0.0.2")}));
  EXPECT_TRUE(cluster(a).online_peers(org.organization_id).empty());
  EXPECT_EQ(schema->value("SELECT count(*) FROM processes"), "2");

  // The process that was declared dead learns it at its next heartbeat, and is back.
  EXPECT_FALSE(cluster(a).heartbeat(dead, "a"));
  EXPECT_TRUE(cluster(a).heartbeat(dead, "a"));
  EXPECT_TRUE(cluster(b).heartbeat(survivor, "b"));
}

TEST_F(ClusterStore, ListenersSeeTheWholeTableAndChecksumTheOtherProcesses) {
  const auto here = cluster(a).join_cluster("a");
  const auto there = cluster(b).join_cluster("b");
  ASSERT_TRUE(a->allocate({org.organization_id, alice.user_id, "", std::nullopt, 3}).has_value());
  ASSERT_TRUE(a->allocate({org.organization_id, bob.user_id, "", std::nullopt, 3}).has_value());
  const auto mine = must(claim(a, claim_of(alice, here)), "mine");
  const auto theirs = must(claim(b, claim_of(bob, there)), "theirs");
  auto listener = cluster(a).listen({});
  const auto rows = listener->presence_snapshot();
  EXPECT_EQ(rows.size(), 2u);
  EXPECT_EQ(listener->presence_checksum(here), (std::pair<std::size_t, std::int64_t>{1, theirs.peer.registration}));

  cluster(a).leave_cluster(here, [&](std::span<const domain::peer_info> left) {
    EXPECT_EQ(left.size(), 1u);
    if (!left.empty()) {
      EXPECT_EQ(left[0].registration, mine.peer.registration);
    }
    return std::vector<notification>{};
  });
  EXPECT_EQ(cluster(a).online_peers(org.organization_id).size(), 1u);
  EXPECT_EQ(schema->value("SELECT count(*) FROM processes"), "1");
}

TEST_F(ClusterStore, ASharedSettingIsTheFirstOneProposed) {
  EXPECT_EQ(cluster(a).shared_setting("jwt_signing_key", "first"), "first");
  EXPECT_EQ(cluster(b).shared_setting("jwt_signing_key", "second"), "first");
  EXPECT_EQ(cluster(b).shared_setting("other", "second"), "second");
}

}  // namespace
}  // namespace store_test
