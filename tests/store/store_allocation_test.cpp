// The store contract (store/store.hpp), part 2: virtual IP allocation. Lowest free host first,
// idempotent per (user, agent_id), specific addresses, release and reuse, full subnets, a large
// /8, concurrency, and uniqueness across store objects and reopening.
#include "store_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace store_test {
namespace {

class StoreAllocation : public StoreTest {};

INSTANTIATE_TEST_SUITE_P(Stores, StoreAllocation, testing::ValuesIn(store_factories()), factory_name);

using texts = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// Automatic allocation

TEST_P(StoreAllocation, LowestFreeHostFirst) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner, "10.0.0.0/24");
  join(o, alice);
  const sig::unix_micros at = tick();
  const auto first = db().allocate({o.organization_id, owner.user_id, "", std::nullopt, at});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->address, ip("10.0.0.1"));  // never the network address 10.0.0.0
  EXPECT_EQ(first->organization_id, o.organization_id);
  EXPECT_EQ(first->user_id, owner.user_id);
  EXPECT_EQ(first->email, "owner@example.com");
  EXPECT_EQ(first->agent_id, "");
  EXPECT_EQ(first->allocated_at, at);
  EXPECT_EQ(allocate(o, alice), "10.0.0.2");
}

TEST_P(StoreAllocation, SubnetsNotStartingAtZeroStartAtTheirFirstHost) {
  const auto owner = user("owner");
  const auto o = organization(owner, "172.20.64.0/18");
  EXPECT_EQ(allocate(o, owner), "172.20.64.1");
  EXPECT_EQ(allocate(o, owner, "b"), "172.20.64.2");
}

TEST_P(StoreAllocation, IsIdempotentPerUserAndDevice) {
  const auto owner = user("owner");
  const auto o = organization(owner);
  const auto first = must(try_allocate(o, owner), "first");
  const auto second = must(try_allocate(o, owner), "second");
  EXPECT_EQ(second.address, first.address);
  EXPECT_EQ(second.allocated_at, first.allocated_at);  // the existing allocation, not a new one
  EXPECT_EQ(db().allocations(o.organization_id).size(), 1u);
  // Asking again for the address it already holds is the same allocation too.
  EXPECT_EQ(allocate(o, owner, "", "10.0.0.1"), "10.0.0.1");
}

TEST_P(StoreAllocation, EachDeviceGetsItsOwnAddress) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner);
  join(o, alice);
  EXPECT_EQ(allocate(o, owner), "10.0.0.1");
  EXPECT_EQ(allocate(o, owner, "laptop"), "10.0.0.2");
  EXPECT_EQ(allocate(o, owner, "phone"), "10.0.0.3");
  EXPECT_EQ(allocate(o, owner, "laptop"), "10.0.0.2");
  EXPECT_EQ(allocate(o, alice, "laptop"), "10.0.0.4");  // agent ids are per user
  EXPECT_EQ(allocate(o, alice), "10.0.0.5");
  const auto laptop = db().find_allocation(o.organization_id, ip("10.0.0.2"));
  ASSERT_TRUE(laptop.has_value());
  EXPECT_EQ(laptop->agent_id, "laptop");
  EXPECT_EQ(laptop->user_id, owner.user_id);
  EXPECT_EQ(laptop->email, "owner@example.com");
}

TEST_P(StoreAllocation, NonMembersGetNothing) {
  const auto owner = user("owner");
  const auto stranger = user("stranger");
  const auto o = organization(owner);
  EXPECT_EQ(error_of(try_allocate(o, stranger)), errc::not_a_member);
  EXPECT_EQ(error_of(try_allocate(o, stranger, "", "10.0.0.9")), errc::not_a_member);
  EXPECT_TRUE(db().allocations(o.organization_id).empty());
  // An unknown organization has no members either.
  const auto unknown = db().allocate({o.organization_id + 1000, owner.user_id, "", std::nullopt, tick()});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_TRUE(unknown.error().code == errc::not_a_member || unknown.error().code == errc::organization_not_found)
      << static_cast<int>(unknown.error().code);
}

// ---------------------------------------------------------------------------------------------
// The per-member quota (PROTOCOL.md §4), checked in the allocating transaction

TEST_P(StoreAllocation, QuotaLimitsPlainMembersOnly) {
  const auto owner = user("owner");
  const auto member = user("member");
  const auto o = organization(owner);
  join(o, member);
  const auto allocate = [&](const domain::user& u, std::string agent_id) {
    return db().allocate({o.organization_id, u.user_id, std::move(agent_id), std::nullopt, tick(), 3});
  };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(allocate(member, numbered("m", i)).has_value()) << i;
  const auto over = allocate(member, "m3");
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, errc::address_quota_exceeded);
  EXPECT_TRUE(allocate(member, "m1").has_value());  // what it holds it still gets (idempotent)
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(allocate(owner, numbered("o", i)).has_value()) << i;
  ASSERT_TRUE(promote(o, member, domain::role::admin).has_value());
  EXPECT_TRUE(allocate(member, "m3").has_value());  // admins are not limited
  EXPECT_EQ(db().allocations(o.organization_id).size(), 9u);
}

// ---------------------------------------------------------------------------------------------
// Full subnets

TEST_P(StoreAllocation, Slash30HasExactlyTwoHosts) {
  const auto owner = user("owner");
  const auto a = user("a");
  const auto b = user("b");
  const auto o = organization(owner, "192.168.1.4/30");
  join(o, a);
  join(o, b);
  EXPECT_EQ(allocate(o, owner), "192.168.1.5");
  EXPECT_EQ(allocate(o, a), "192.168.1.6");
  const auto full = try_allocate(o, b);
  ASSERT_EQ(error_of(full), errc::subnet_full);
  EXPECT_EQ(full.error().message(), "No free IP address in subnet");
  EXPECT_EQ(error_of(try_allocate(o, b, "another")), errc::subnet_full);
  EXPECT_EQ(addresses_of(o), (texts{"192.168.1.5", "192.168.1.6"}));  // never .4 or .7
  // Idempotent allocations still answer when the subnet is full.
  EXPECT_EQ(allocate(o, a), "192.168.1.6");
  EXPECT_EQ(error_of(try_allocate(o, b, "", "192.168.1.5")), errc::address_taken);

  // A release makes room again.
  ASSERT_TRUE(release(o, "192.168.1.5").has_value());
  EXPECT_EQ(allocate(o, b), "192.168.1.5");
  EXPECT_EQ(error_of(try_allocate(o, owner)), errc::subnet_full);
}

TEST_P(StoreAllocation, FullSubnetStaysFullAfterManyTries) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.9.9.0/30");
  EXPECT_EQ(allocate(o, owner, "a"), "10.9.9.1");
  EXPECT_EQ(allocate(o, owner, "b"), "10.9.9.2");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(error_of(try_allocate(o, owner, numbered("x", i))), errc::subnet_full);
  EXPECT_EQ(addresses_of(o), (texts{"10.9.9.1", "10.9.9.2"}));
}

TEST_P(StoreAllocation, Slash24FillsAllTwoHundredFiftyFourHosts) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.5.5.0/24");
  for (int i = 1; i <= 254; ++i) ASSERT_EQ(allocate(o, owner, numbered("d", i)), numbered("10.5.5.", i));
  EXPECT_EQ(error_of(try_allocate(o, owner, "one-too-many")), errc::subnet_full);
  EXPECT_FALSE(db().find_allocation(o.organization_id, ip("10.5.5.255")).has_value());
  EXPECT_FALSE(db().find_allocation(o.organization_id, ip("10.5.5.0")).has_value());
}

// ---------------------------------------------------------------------------------------------
// Specific addresses

TEST_P(StoreAllocation, SpecificFreeAddressAboveTheWatermarkIsSkippedLater) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/24");
  EXPECT_EQ(allocate(o, owner, "pinned", "10.0.0.4"), "10.0.0.4");
  EXPECT_EQ(allocate(o, owner, "a"), "10.0.0.1");
  EXPECT_EQ(allocate(o, owner, "b"), "10.0.0.2");
  EXPECT_EQ(allocate(o, owner, "c"), "10.0.0.3");
  EXPECT_EQ(allocate(o, owner, "d"), "10.0.0.5");  // 10.0.0.4 is taken
  EXPECT_EQ(allocate(o, owner, "e"), "10.0.0.6");
}

TEST_P(StoreAllocation, SeveralSpecificAddressesInARowAreSkipped) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/24");
  EXPECT_EQ(allocate(o, owner, "p2", "10.0.0.2"), "10.0.0.2");
  EXPECT_EQ(allocate(o, owner, "p3", "10.0.0.3"), "10.0.0.3");
  EXPECT_EQ(allocate(o, owner, "p4", "10.0.0.4"), "10.0.0.4");
  EXPECT_EQ(allocate(o, owner, "a"), "10.0.0.1");
  EXPECT_EQ(allocate(o, owner, "b"), "10.0.0.5");
}

TEST_P(StoreAllocation, SpecificTakenAddressIsAddressTaken) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner, "10.0.0.0/24");
  join(o, alice);
  EXPECT_EQ(allocate(o, owner), "10.0.0.1");                          // below the watermark later
  EXPECT_EQ(allocate(o, owner, "pinned", "10.0.0.50"), "10.0.0.50");  // above it
  EXPECT_EQ(error_of(try_allocate(o, alice, "", "10.0.0.1")), errc::address_taken);
  EXPECT_EQ(error_of(try_allocate(o, alice, "", "10.0.0.50")), errc::address_taken);
  EXPECT_FALSE(db().find_allocation(o.organization_id, ip("10.0.0.2")).has_value());
  // The refused request left nothing behind: alice's next automatic allocation is normal.
  EXPECT_EQ(allocate(o, alice), "10.0.0.2");
}

TEST_P(StoreAllocation, SpecificAddressBelowTheWatermark) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/24");
  for (const char* device : {"a", "b", "c", "d"}) allocate(o, owner, device);  // .1 - .4
  ASSERT_TRUE(release(o, "10.0.0.2").has_value());
  const auto alice = user("alice");
  const auto bob = user("bob");
  join(o, alice);
  join(o, bob);
  EXPECT_EQ(allocate(o, alice, "", "10.0.0.2"), "10.0.0.2");  // released, so free
  EXPECT_EQ(error_of(try_allocate(o, bob, "", "10.0.0.2")), errc::address_taken);
  EXPECT_EQ(error_of(try_allocate(o, bob, "", "10.0.0.3")), errc::address_taken);
  EXPECT_EQ(allocate(o, bob), "10.0.0.5");  // .2 is no longer in the free list
}

TEST_P(StoreAllocation, ReleasedSpecificAddressAboveTheWatermarkIsFreeAgain) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/26");
  EXPECT_EQ(allocate(o, owner, "pinned", "10.0.0.5"), "10.0.0.5");
  ASSERT_TRUE(release(o, "10.0.0.5").has_value());
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(allocate(o, owner, numbered("d", i)), numbered("10.0.0.", i));
  EXPECT_EQ(allocate(o, owner, "again", "10.0.0.40"), "10.0.0.40");
  ASSERT_TRUE(release(o, "10.0.0.40").has_value());
  EXPECT_EQ(allocate(o, owner, "again", "10.0.0.40"), "10.0.0.40");
}

TEST_P(StoreAllocation, DeviceWithAnAddressCannotAskForAnother) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/24");
  EXPECT_EQ(allocate(o, owner), "10.0.0.1");
  EXPECT_EQ(error_of(try_allocate(o, owner, "", "10.0.0.7")), errc::device_has_address);
  EXPECT_EQ(allocate(o, owner, "", "10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(allocate(o, owner, "laptop", "10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(error_of(try_allocate(o, owner, "laptop", "10.0.0.8")), errc::device_has_address);
  EXPECT_FALSE(db().find_allocation(o.organization_id, ip("10.0.0.8")).has_value());
  EXPECT_EQ(addresses_of(o), (texts{"10.0.0.1", "10.0.0.7"}));
}

// ---------------------------------------------------------------------------------------------
// Release and reuse

TEST_P(StoreAllocation, ReleasedAddressesAreReusedLowestFirst) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/24");
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(allocate(o, owner, numbered("d", i)), numbered("10.0.0.", i));
  for (const char* address : {"10.0.0.5", "10.0.0.2", "10.0.0.4"}) ASSERT_TRUE(release(o, address).has_value());
  EXPECT_EQ(addresses_of(o), (texts{"10.0.0.1", "10.0.0.3", "10.0.0.6"}));
  EXPECT_EQ(allocate(o, owner, "n1"), "10.0.0.2");
  EXPECT_EQ(allocate(o, owner, "n2"), "10.0.0.4");
  EXPECT_EQ(allocate(o, owner, "n3"), "10.0.0.5");
  EXPECT_EQ(allocate(o, owner, "n4"), "10.0.0.7");
}

TEST_P(StoreAllocation, ReleaseReturnsTheAllocationOnce) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/24");
  EXPECT_EQ(allocate(o, owner, "laptop"), "10.0.0.1");
  const auto released = release(o, "10.0.0.1");
  ASSERT_TRUE(released.has_value());
  ASSERT_EQ(released->released.size(), 1u);
  const auto& freed = released->released.front();
  EXPECT_EQ(freed.address, ip("10.0.0.1"));
  EXPECT_EQ(freed.user_id, owner.user_id);
  EXPECT_EQ(freed.agent_id, "laptop");
  EXPECT_EQ(freed.email, "owner@example.com");
  EXPECT_FALSE(db().find_allocation(o.organization_id, ip("10.0.0.1")).has_value());
  EXPECT_EQ(error_of(release(o, "10.0.0.1")), errc::address_not_found);
  EXPECT_EQ(error_of(release(o, "10.0.0.77")), errc::address_not_found);
  // The device gets an address again on its next allocation.
  EXPECT_EQ(allocate(o, owner, "laptop"), "10.0.0.1");
}

TEST_P(StoreAllocation, ReleaseOnlyTouchesItsOwnOrganization) {
  const auto a = user("a");
  const auto b = user("b");
  const auto first = organization(a, "10.0.0.0/24");
  const auto second = organization(b, "10.0.0.0/24");
  EXPECT_EQ(allocate(first, a), "10.0.0.1");
  EXPECT_EQ(allocate(second, b), "10.0.0.1");
  ASSERT_TRUE(release(first, "10.0.0.1").has_value());
  EXPECT_EQ(addresses_of(second), (texts{"10.0.0.1"}));
  EXPECT_EQ(db().find_allocation(second.organization_id, ip("10.0.0.1"))->user_id, b.user_id);
  EXPECT_EQ(error_of(db().release({first.organization_id + second.organization_id + 1000, a.user_id, ip("10.0.0.1")})),
            errc::organization_not_found);
  // The second organization's watermark is its own.
  EXPECT_EQ(allocate(second, b, "x"), "10.0.0.2");
  EXPECT_EQ(allocate(first, a, "x"), "10.0.0.1");
}

// ---------------------------------------------------------------------------------------------
// Listings

TEST_P(StoreAllocation, ListingsAreOrdered) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto first = organization(owner, "10.0.0.0/24");
  const auto second = organization(owner, "10.1.0.0/24");
  join(first, alice);
  join(second, alice);
  EXPECT_EQ(allocate(first, owner, "pinned", "10.0.0.9"), "10.0.0.9");
  EXPECT_EQ(allocate(second, alice), "10.1.0.1");
  EXPECT_EQ(allocate(first, alice), "10.0.0.1");
  EXPECT_EQ(allocate(first, alice, "phone"), "10.0.0.2");

  // Lowest address first.
  EXPECT_EQ(addresses_of(first), (texts{"10.0.0.1", "10.0.0.2", "10.0.0.9"}));
  // Across organizations, oldest allocation first.
  texts of_alice;
  for (const auto& a : db().allocations_of(alice.user_id)) of_alice.push_back(sig::domain::format_ipv4(a.address));
  EXPECT_EQ(of_alice, (texts{"10.1.0.1", "10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(db().allocations_of(alice.user_id)[0].organization_id, second.organization_id);
  EXPECT_TRUE(db().allocations_of(user("nobody").user_id).empty());
  EXPECT_TRUE(db().allocations(first.organization_id + second.organization_id + 1000).empty());
}

// ---------------------------------------------------------------------------------------------
// A large subnet

TEST_P(StoreAllocation, Slash8WithTwentyThousandAllocationsStaysSequential) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/8");
  constexpr int count = 20'000;
  const domain::ipv4 first_host = ip("10.0.0.1");
  for (int i = 0; i < count; ++i) {
    const auto a = try_allocate(o, owner, numbered("d", i));
    ASSERT_TRUE(a.has_value()) << i;
    ASSERT_EQ(a->address, first_host + static_cast<domain::ipv4>(i)) << i;
  }
  // The last ones, across the .255/.0 boundaries that are ordinary hosts in a /8.
  EXPECT_EQ(db().find_allocation(o.organization_id, ip("10.0.78.32"))->agent_id, "d19999");
  EXPECT_EQ(db().find_allocation(o.organization_id, ip("10.0.0.255"))->agent_id, "d254");
  EXPECT_EQ(db().find_allocation(o.organization_id, ip("10.0.1.0"))->agent_id, "d255");

  // A released address deep below the watermark is the next one handed out.
  ASSERT_TRUE(release(o, "10.0.39.16").has_value());
  EXPECT_EQ(allocate(o, owner, "reuse"), "10.0.39.16");
  EXPECT_EQ(allocate(o, owner, "next"), "10.0.78.33");
  // The top of the block is a host too.
  EXPECT_EQ(allocate(o, owner, "top", "10.255.255.254"), "10.255.255.254");
  EXPECT_EQ(allocate(o, owner, "after"), "10.0.78.34");
  EXPECT_EQ(db().allocations(o.organization_id).size(), static_cast<std::size_t>(count) + 3);
}

// ---------------------------------------------------------------------------------------------
// Concurrency

TEST_P(StoreAllocation, ConcurrentAllocationsGetDistinctAddresses) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.20.0.0/16");
  constexpr int threads = 8;
  constexpr int per_thread = 150;
  std::vector<domain::user> users;
  for (int t = 0; t < threads; ++t) {
    users.push_back(user(numbered("t", t)));
    join(o, users.back());
  }
  std::vector<std::vector<domain::ipv4>> got(threads);
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const auto a = db().allocate({o.organization_id, users[t].user_id, numbered("dev", i), std::nullopt, 1});
        if (a)
          got[t].push_back(a->address);
        else
          ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);

  std::set<domain::ipv4> distinct;
  for (const auto& addresses : got)
    for (const auto a : addresses) EXPECT_TRUE(distinct.insert(a).second) << sig::domain::format_ipv4(a);
  ASSERT_EQ(distinct.size(), static_cast<std::size_t>(threads * per_thread));
  // Without releases, the lowest hosts were handed out: exactly the first threads*per_thread.
  EXPECT_EQ(*distinct.begin(), ip("10.20.0.1"));
  EXPECT_EQ(*distinct.rbegin(), ip("10.20.0.1") + threads * per_thread - 1);
  EXPECT_EQ(db().allocations(o.organization_id).size(), distinct.size());
}

TEST_P(StoreAllocation, ConcurrentRequestsForOneDeviceGetOneAddress) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/24");
  constexpr int threads = 8;
  std::vector<domain::ipv4> got(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      const auto a = db().allocate({o.organization_id, owner.user_id, "laptop", std::nullopt, 1});
      got[t] = a ? a->address : 0;
    });
  for (auto& w : workers) w.join();
  for (const auto a : got) EXPECT_EQ(a, ip("10.0.0.1"));
  EXPECT_EQ(db().allocations(o.organization_id).size(), 1u);
}

TEST_P(StoreAllocation, ConcurrentAllocateAndReleaseNeverShareAnAddress) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.30.0.0/24");
  constexpr int threads = 8;
  std::vector<domain::user> users;
  for (int t = 0; t < threads; ++t) {
    users.push_back(user(numbered("churn", t)));
    join(o, users.back());
  }
  std::atomic<int> unexpected{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::uint32_t seed = 12345u + static_cast<std::uint32_t>(t);
      std::vector<domain::ipv4> held;
      for (int i = 0; i < 120; ++i) {
        seed = seed * 1664525u + 1013904223u;
        if (!held.empty() && seed % 3 == 0) {
          const domain::ipv4 victim = held[seed % held.size()];
          if (!db().release({o.organization_id, owner.user_id, victim})) ++unexpected;
          std::erase(held, victim);
        } else {
          const auto a = db().allocate({o.organization_id, users[t].user_id, numbered("d", i), std::nullopt, 1});
          if (a)
            held.push_back(a->address);
          else if (a.error().code != errc::subnet_full)
            ++unexpected;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(unexpected.load(), 0);
  const auto all = db().allocations(o.organization_id);
  std::set<domain::ipv4> distinct;
  for (const auto& a : all) {
    EXPECT_TRUE(distinct.insert(a.address).second) << sig::domain::format_ipv4(a.address);
    EXPECT_TRUE(subnet("10.30.0.0/24").is_host(a.address)) << sig::domain::format_ipv4(a.address);
  }
  // Lowest-free means the survivors plus the free list cover a prefix of the subnet: the next
  // allocation is the lowest address not in use.
  domain::ipv4 lowest_free = ip("10.30.0.1");
  while (distinct.contains(lowest_free)) ++lowest_free;
  if (lowest_free <= ip("10.30.0.254")) {
    EXPECT_EQ(allocate(o, owner, "final"), sig::domain::format_ipv4(lowest_free));
  }
}

TEST_P(StoreAllocation, TwoStoreObjectsOnOneDatabaseNeverShareAnAddress) {
  auto other = harness().open_another();
  if (!other) GTEST_SKIP() << "this store cannot open a second handle on its database";
  const auto owner = user("owner");
  const auto o = organization(owner, "10.40.0.0/16");
  constexpr int threads = 4;
  constexpr int per_thread = 100;
  std::vector<std::vector<domain::ipv4>> got(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    sig::store::store* handle = t % 2 == 0 ? &db() : other.get();
    workers.emplace_back([&, t, handle] {
      for (int i = 0; i < per_thread; ++i) {
        const auto a =
            handle->allocate({o.organization_id, owner.user_id, numbered("t", t) + numbered("-", i), std::nullopt, 1});
        if (a) got[t].push_back(a->address);
      }
    });
  }
  for (auto& w : workers) w.join();
  std::set<domain::ipv4> distinct;
  std::size_t total = 0;
  for (const auto& addresses : got) {
    total += addresses.size();
    distinct.insert(addresses.begin(), addresses.end());
  }
  EXPECT_EQ(total, static_cast<std::size_t>(threads * per_thread));
  EXPECT_EQ(distinct.size(), total);
  EXPECT_EQ(other->allocations(o.organization_id).size(), total);
}

// ---------------------------------------------------------------------------------------------
// Durability

TEST_P(StoreAllocation, EverythingSurvivesReopening) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner, "10.0.0.0/24", domain::join_policy::invite, "Durable");
  const sig::unix_micros now = tick();
  db().create_invite({o.organization_id, owner.user_id, "hash-durable", 1, now + 3'600'000'000, now});
  join(o, alice, "hash-durable");
  ASSERT_TRUE(promote(o, alice, domain::role::admin).has_value());
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(allocate(o, owner, numbered("d", i)), numbered("10.0.0.", i));
  EXPECT_EQ(allocate(o, alice, "pinned", "10.0.0.20"), "10.0.0.20");
  ASSERT_TRUE(release(o, "10.0.0.3").has_value());

  harness().reopen();

  EXPECT_EQ(db().find_user(owner.user_id)->email, "owner@example.com");
  EXPECT_EQ(db().find_user_by_email("alice@example.com")->user_id, alice.user_id);
  const auto found = db().find_organization(o.organization_id, alice.user_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->organization.name, "Durable");
  EXPECT_EQ(found->organization.policy, domain::join_policy::invite);
  EXPECT_EQ(found->caller_role, domain::role::admin);
  EXPECT_EQ(db().members(o.organization_id).size(), 2u);
  EXPECT_EQ(addresses_of(o), (texts{"10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.5", "10.0.0.20"}));

  // The invite stayed used up, the free list and the watermark are intact.
  const auto bob = user("bob");
  EXPECT_EQ(error_of(db().join({o.organization_id, bob.user_id, "hash-durable", now})), errc::invite_invalid);
  EXPECT_EQ(allocate(o, owner, "after1"), "10.0.0.3");
  EXPECT_EQ(allocate(o, owner, "after2"), "10.0.0.6");
  EXPECT_EQ(allocate(o, owner, "d1"), "10.0.0.1");  // still idempotent
  EXPECT_EQ(error_of(try_allocate(o, owner, "x", "10.0.0.20")), errc::address_taken);
}

}  // namespace
}  // namespace store_test
