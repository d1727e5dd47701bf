// The store contract for what agents and removals race for: where a WebSocket registration lands
// (PROTOCOL.md §5.2), and the rules that guard a release, checked in the transaction that makes
// it, under concurrency from two store objects on one database (two "processes").
#include "store_fixture.hpp"

#include "store/registration_candidates.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace store_test {
namespace {

class StoreRegistration : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    owner = user("owner");
    alice = user("alice");
    bob = user("bob");
    stranger = user("stranger");
    org = organization(owner, "10.0.0.0/24");
    join(org, alice);
    join(org, bob);
  }

  domain::user owner, alice, bob, stranger;
  domain::organization org;
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreRegistration, testing::ValuesIn(store_factories()), factory_name);

TEST_P(StoreRegistration, RegistrationResolvesToTheCallersAllocation) {
  const auto second = organization(owner, "10.1.0.0/24", domain::join_policy::open, "Second");
  join(second, alice);
  EXPECT_EQ(allocate(second, alice), "10.1.0.1");  // earliest allocation
  EXPECT_EQ(allocate(org, alice), "10.0.0.1");
  EXPECT_EQ(allocate(org, alice, "laptop"), "10.0.0.2");

  const auto any = db().find_registration_target(alice.user_id, std::nullopt, std::nullopt);
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->organization.organization_id, second.organization_id);
  EXPECT_EQ(any->allocation.address, ip("10.1.0.1"));

  const auto in_org = db().find_registration_target(alice.user_id, org.organization_id, std::nullopt);
  ASSERT_TRUE(in_org.has_value());
  EXPECT_EQ(in_org->allocation.address, ip("10.0.0.1"));

  const auto device = db().find_registration_target(alice.user_id, org.organization_id, "laptop");
  ASSERT_TRUE(device.has_value());
  EXPECT_EQ(device->allocation.address, ip("10.0.0.2"));
  EXPECT_EQ(device->allocation.agent_id, "laptop");

  // An agent_id without its own address falls back to the caller's own.
  const auto unknown_device = db().find_registration_target(alice.user_id, org.organization_id, "phone");
  ASSERT_TRUE(unknown_device.has_value());
  EXPECT_EQ(unknown_device->allocation.address, ip("10.0.0.1"));
}

TEST_P(StoreRegistration, RegistrationErrors) {
  EXPECT_EQ(error_of(db().find_registration_target(stranger.user_id, std::nullopt, std::nullopt)), errc::not_a_member);
  EXPECT_EQ(error_of(db().find_registration_target(bob.user_id, std::nullopt, std::nullopt)), errc::address_not_found);
  const auto other = organization(owner, "10.2.0.0/24");
  EXPECT_EQ(error_of(db().find_registration_target(bob.user_id, other.organization_id, std::nullopt)),
            errc::not_a_member);
  // An address in another organization is not used when one is named.
  EXPECT_EQ(allocate(other, owner), "10.2.0.1");
  EXPECT_EQ(error_of(db().find_registration_target(owner.user_id, org.organization_id, std::nullopt)),
            errc::address_not_found);
}

// The read ahead at a WebSocket upgrade (registration_candidates.hpp) must land every
// registration where the lookup at registration time would: same organization, same address.
TEST_P(StoreRegistration, ChoosingAmongTheCandidatesAgreesWithTheLookup) {
  const auto second = organization(owner, "10.1.0.0/24", domain::join_policy::open, "Second");
  const auto third = organization(owner, "10.2.0.0/24", domain::join_policy::open, "Third");
  join(second, alice);
  join(third, alice);
  allocate(org, alice, "laptop");  // a device's address older than the user's own
  allocate(second, alice);
  allocate(org, alice);
  allocate(second, alice, "phone");
  allocate(org, alice, "phone");     // the same device in two organizations
  allocate(third, alice, "tablet");  // in the third, only a device's address

  const auto candidates = db().registration_candidates(alice.user_id, 16);
  ASSERT_EQ(candidates.size(), 6u);
  for (std::size_t i = 1; i < candidates.size(); ++i)  // oldest first
    EXPECT_LT(candidates[i - 1].allocation.allocated_at, candidates[i].allocation.allocated_at);

  const std::optional<st::id> organizations[] = {std::nullopt, org.organization_id, second.organization_id,
                                                 third.organization_id, 999999};
  const std::string agents[] = {"", "laptop", "phone", "tablet", "watch"};
  int found = 0;
  for (const auto& organization_id : organizations) {
    for (const auto& agent : agents) {
      SCOPED_TRACE(testing::Message() << "organization " << organization_id.value_or(0) << ", agent '" << agent << "'");
      const auto looked_up = db().find_registration_target(
          alice.user_id, organization_id, agent.empty() ? std::nullopt : std::optional<std::string>(agent));
      const auto* chosen = st::choose_registration_target(candidates, organization_id, agent);
      ASSERT_EQ(chosen != nullptr, looked_up.has_value());
      if (!chosen) continue;
      ++found;
      EXPECT_EQ(chosen->organization.organization_id, looked_up->organization.organization_id);
      EXPECT_EQ(chosen->allocation.address, looked_up->allocation.address);
      EXPECT_EQ(chosen->allocation.agent_id, looked_up->allocation.agent_id);
      EXPECT_EQ(chosen->allocation.email, looked_up->allocation.email);
      EXPECT_EQ(chosen->organization.subnet, looked_up->organization.subnet);
    }
  }
  EXPECT_EQ(found, 16);  // any organization or one with the user's own address: 5 each; the third: its device
  EXPECT_EQ(db().registration_candidates(alice.user_id, 2).size(), 2u);
  EXPECT_TRUE(db().registration_candidates(stranger.user_id, 16).empty());
}

// What was read ahead is used only while the database is unchanged, and only where this process is
// the only writer (SQLite; PostgreSQL is shared by a cluster, so nothing is read ahead).
TEST_P(StoreRegistration, CandidatesReadAheadAreCurrentUntilTheNextWrite) {
  allocate(org, alice);
  const auto read = st::read_registration_candidates(db(), alice.user_id);
  if (!db().local_write_count()) {
    EXPECT_FALSE(read.has_value());
    return;
  }
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(read->complete);
  ASSERT_EQ(read->targets.size(), 1u);
  EXPECT_TRUE(st::still_current(*read, db()));
  EXPECT_TRUE(db().find_registration_target(alice.user_id, std::nullopt, std::nullopt).has_value());  // reads only
  EXPECT_TRUE(st::still_current(*read, db()));
  allocate(org, bob);  // any write, also another user's
  EXPECT_FALSE(st::still_current(*read, db()));
  const auto refused = try_allocate(org, stranger);  // a refused write changes nothing
  EXPECT_FALSE(refused.has_value());
  const auto again = st::read_registration_candidates(db(), alice.user_id);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(st::still_current(*again, db()));
  ASSERT_TRUE(release(org, "10.0.0.1").has_value());
  EXPECT_FALSE(st::still_current(*again, db()));

  // A user with more allocations than are read ahead registers through the lookup.
  for (std::size_t i = 0; i < st::registration_candidates_read; ++i) allocate(org, bob, numbered("d", i));
  const auto many = st::read_registration_candidates(db(), bob.user_id);
  ASSERT_TRUE(many.has_value());
  EXPECT_FALSE(many->complete);
  EXPECT_TRUE(many->targets.empty());
}

// Alice releases "her" address while the owner releases it and gives it to Bob. Alice's release
// must never take Bob's address: the holder check and the delete are one transaction.
TEST_P(StoreRegistration, AReleaseNeverTakesAnAddressThatChangedHandsMeanwhile) {
  auto other = harness().open_another();
  if (!other) GTEST_SKIP() << "this store cannot open a second handle on its database";
  constexpr int rounds = 300;
  const domain::ipv4 address = ip("10.0.0.1");
  int bob_robbed = 0, bob_got_it = 0;
  for (int round = 0; round < rounds; ++round) {
    ASSERT_EQ(allocate(org, alice), "10.0.0.1");
    std::atomic<bool> go{false};
    bool bob_allocated = false;
    std::thread owner_side([&] {
      while (!go.load()) std::this_thread::yield();
      if (!other->release({org.organization_id, owner.user_id, address})) return;
      bob_allocated = other->allocate({org.organization_id, bob.user_id, "", address, tick()}).has_value();
    });
    go.store(true);
    const auto by_alice = db().release({org.organization_id, alice.user_id, address});
    owner_side.join();
    if (by_alice) {
      EXPECT_EQ(by_alice->released.front().user_id, alice.user_id);
    }
    const auto holder = db().find_allocation(org.organization_id, address);
    if (bob_allocated) {
      ++bob_got_it;
      if (!holder || holder->user_id != bob.user_id) ++bob_robbed;
    }
    if (holder) {
      ASSERT_TRUE(release(org, "10.0.0.1").has_value());
    }
  }
  EXPECT_EQ(bob_robbed, 0) << "of " << bob_got_it << " rounds where Bob got the address";
}

}  // namespace
}  // namespace store_test
