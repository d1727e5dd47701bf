// The store contract (store/store.hpp), part 4: what only the administration commands use —
// every user and organization, and deleting a user or an organization. Written against the
// interface only and run for every factory of store_factories().
#include "store_fixture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace store_test {
namespace {

class StoreAdministration : public StoreTest {};

INSTANTIATE_TEST_SUITE_P(Stores, StoreAdministration, testing::ValuesIn(store_factories()), factory_name);

TEST_P(StoreAdministration, ListsEveryUserAndOrganizationById) {
  EXPECT_TRUE(db().users().empty());
  EXPECT_TRUE(db().all_organizations().empty());
  const auto a = user("a");
  const auto b = user("b");
  const auto first = organization(b, "10.1.0.0/24");
  const auto second = organization(a, "10.2.0.0/24");
  const auto users = db().users();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].user_id, a.user_id);
  EXPECT_EQ(users[1].email, "b@example.com");
  const auto organizations = db().all_organizations();
  ASSERT_EQ(organizations.size(), 2u);
  EXPECT_EQ(organizations[0].organization_id, first.organization_id);
  EXPECT_EQ(organizations[1].owner_id, a.user_id);
}

TEST_P(StoreAdministration, DeletingAUserFreesTheirAddressesAndMemberships) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner, "10.0.0.0/29");
  join(o, alice);
  EXPECT_EQ(allocate(o, owner), "10.0.0.1");
  EXPECT_EQ(allocate(o, alice), "10.0.0.2");
  EXPECT_EQ(allocate(o, alice, "laptop"), "10.0.0.3");
  db().create_invite({o.organization_id, alice.user_id, "code-hash-of-alice", 1, tick() + 1'000'000'000, tick()});

  const auto done = must(db().delete_user(alice.user_id), "delete");
  EXPECT_EQ(done.released.size(), 2u);
  EXPECT_FALSE(db().find_user(alice.user_id).has_value());
  EXPECT_FALSE(db().find_member(o.organization_id, alice.user_id).has_value());
  ASSERT_EQ(db().allocations(o.organization_id).size(), 1u);
  EXPECT_TRUE(db().allocations_of(alice.user_id).empty());
  EXPECT_EQ(error_of(db().delete_user(alice.user_id)), sig::errc::not_found);
  // Both freed addresses are handed out again, lowest first.
  const auto bob = user("bob");
  join(o, bob);
  EXPECT_EQ(allocate(o, bob), "10.0.0.2");
  EXPECT_EQ(allocate(o, bob, "phone"), "10.0.0.3");
}

TEST_P(StoreAdministration, AnOwnerIsNotDeletedAndNothingChanges) {
  const auto owner = user("owner");
  const auto o = organization(owner);
  EXPECT_EQ(allocate(o, owner), "10.0.0.1");
  const auto refused = db().delete_user(owner.user_id);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, sig::errc::forbidden);
  EXPECT_NE(std::string(refused.error().message()).find(std::to_string(o.organization_id)), std::string::npos);
  EXPECT_TRUE(db().find_user(owner.user_id).has_value());
  EXPECT_EQ(db().allocations(o.organization_id).size(), 1u);
}

TEST_P(StoreAdministration, DeletingAnOrganizationTakesItsMembersAddressesAndInvites) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto kept = organization(owner, "10.9.0.0/24");
  const auto o = organization(owner, "10.0.0.0/24");
  join(o, alice);
  join(kept, alice);
  allocate(o, owner);
  allocate(o, alice);
  EXPECT_EQ(allocate(kept, alice), "10.9.0.1");
  db().create_invite({o.organization_id, owner.user_id, "code-hash", 5, tick() + 1'000'000'000, tick()});
  must(db().release({o.organization_id, owner.user_id, ip("10.0.0.1"), false}), "release");  // a free-list row

  const auto done = must(db().delete_organization(o.organization_id), "delete");
  EXPECT_EQ(done.released.size(), 1u);
  EXPECT_FALSE(db().find_organization(o.organization_id, owner.user_id).has_value());
  EXPECT_TRUE(db().members(o.organization_id).empty());
  EXPECT_TRUE(db().allocations(o.organization_id).empty());
  EXPECT_EQ(db().organizations_of(alice.user_id).size(), 1u);
  EXPECT_EQ(db().allocations(kept.organization_id).size(), 1u);
  EXPECT_EQ(error_of(db().delete_organization(o.organization_id)), sig::errc::organization_not_found);
  // The owner owns one organization less; with none left they could be deleted.
  must(db().delete_organization(kept.organization_id), "delete the other");
  must(db().delete_user(owner.user_id), "delete the owner");
}

}  // namespace
}  // namespace store_test
