// The store contract (store/store.hpp), part 1: users, organizations, memberships and invites.
// Written against the interface only and run for every factory of store_factories().
#include "store_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace store_test {
namespace {

using domain::join_policy;
using domain::role;

class StoreContract : public StoreTest {};

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract, testing::ValuesIn(store_factories()), factory_name);

std::vector<sig::domain::id> ids_of(const std::vector<domain::organization>& orgs) {
  std::vector<sig::domain::id> ids;
  for (const auto& o : orgs) ids.push_back(o.organization_id);
  return ids;
}

std::vector<sig::domain::id> user_ids_of(const std::vector<domain::membership>& members) {
  std::vector<sig::domain::id> ids;
  for (const auto& m : members) ids.push_back(m.user_id);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Users

TEST_P(StoreContract, CreatesAndFindsUsers) {
  const auto created =
      must(db().create_user({"alice@example.com", "argon-hash", 1'700'000'000'123'456, "alice-stamp"}), "create");
  EXPECT_GT(created.user_id, 0);
  EXPECT_EQ(created.email, "alice@example.com");
  EXPECT_EQ(created.password_hash, "argon-hash");
  EXPECT_EQ(created.created_at, 1'700'000'000'123'456);

  const auto by_id = db().find_user(created.user_id);
  ASSERT_TRUE(by_id.has_value());
  EXPECT_EQ(by_id->user_id, created.user_id);
  EXPECT_EQ(by_id->email, "alice@example.com");
  EXPECT_EQ(by_id->password_hash, "argon-hash");
  EXPECT_EQ(by_id->created_at, 1'700'000'000'123'456);
  EXPECT_EQ(by_id->token_stamp, "alice-stamp");

  const auto by_email = db().find_user_by_email("alice@example.com");
  ASSERT_TRUE(by_email.has_value());
  EXPECT_EQ(by_email->user_id, created.user_id);

  EXPECT_FALSE(db().find_user(created.user_id + 1000).has_value());
  EXPECT_FALSE(db().find_user(0).has_value());
  EXPECT_FALSE(db().find_user_by_email("bob@example.com").has_value());
  EXPECT_FALSE(db().find_user_by_email("").has_value());
}

TEST_P(StoreContract, ReplacingTheTokenStampKeepsEverythingElse) {
  const auto alice = user("alice");
  EXPECT_TRUE(db().replace_token_stamp(alice.user_id, "new-stamp"));
  const auto after = db().find_user(alice.user_id);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->token_stamp, "new-stamp");
  EXPECT_EQ(after->password_hash, alice.password_hash);
  EXPECT_EQ(db().find_user_by_email("alice@example.com")->token_stamp, "new-stamp");
  EXPECT_FALSE(db().replace_token_stamp(alice.user_id + 1000, "other"));
}

TEST_P(StoreContract, EveryUserGetsItsOwnId) {
  const auto a = user("a");
  const auto b = user("b");
  const auto c = user("c");
  EXPECT_NE(a.user_id, b.user_id);
  EXPECT_NE(b.user_id, c.user_id);
  EXPECT_NE(a.user_id, c.user_id);
  EXPECT_EQ(db().find_user(b.user_id)->email, "b@example.com");
}

TEST_P(StoreContract, DuplicateEmailIsEmailTaken) {
  const auto first = user("alice");
  const auto again = db().create_user({"alice@example.com", "other-hash", tick(), "stamp"});
  EXPECT_EQ(error_of(again), errc::email_taken);
  // Nothing changed, and the store still works.
  EXPECT_EQ(db().find_user_by_email("alice@example.com")->password_hash, first.password_hash);
  EXPECT_EQ(db().find_user_by_email("alice@example.com")->user_id, first.user_id);
  EXPECT_TRUE(db().create_user({"bob@example.com", "h", tick(), "stamp"}).has_value());
}

TEST_P(StoreContract, UnicodeAndLongValuesSurvive) {
  const std::string hash(200, 'h');
  const auto u = must(db().create_user({"j\xc3\xb6rg@example.com", hash, tick(), "stamp"}), "create");
  EXPECT_EQ(db().find_user(u.user_id)->email, "j\xc3\xb6rg@example.com");
  EXPECT_EQ(db().find_user(u.user_id)->password_hash, hash);
}

TEST_P(StoreContract, UpdatesThePasswordHash) {
  const auto u = user("alice");
  db().update_password_hash(u.user_id, "$argon2id$new");
  EXPECT_EQ(db().find_user(u.user_id)->password_hash, "$argon2id$new");
  EXPECT_EQ(db().find_user_by_email("alice@example.com")->password_hash, "$argon2id$new");
}

// ---------------------------------------------------------------------------------------------
// Organizations

TEST_P(StoreContract, CreatesAnOrganizationWithItsOwnerAsMember) {
  const auto owner = user("owner");
  const sig::unix_micros created_at = tick();
  const auto o = db().create_organization(
      {"Acme \xe6\x97\xa5\xe6\x9c\xac", subnet("10.8.0.0/16"), join_policy::invite, owner.user_id, created_at});
  EXPECT_GT(o.organization_id, 0);
  EXPECT_EQ(o.name, "Acme \xe6\x97\xa5\xe6\x9c\xac");
  EXPECT_EQ(o.subnet, subnet("10.8.0.0/16"));
  EXPECT_EQ(o.owner_id, owner.user_id);
  EXPECT_EQ(o.policy, join_policy::invite);
  EXPECT_EQ(o.created_at, created_at);

  const auto members = db().members(o.organization_id);
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].organization_id, o.organization_id);
  EXPECT_EQ(members[0].user_id, owner.user_id);
  EXPECT_EQ(members[0].email, "owner@example.com");
  EXPECT_EQ(members[0].member_role, role::owner);
  EXPECT_EQ(members[0].joined_at, created_at);
}

TEST_P(StoreContract, FindOrganizationTellsTheCallersRole) {
  const auto owner = user("owner");
  const auto member = user("member");
  const auto stranger = user("stranger");
  const auto o = organization(owner, "192.168.7.0/24", join_policy::open, "Find me");
  join(o, member);

  const auto as_owner = db().find_organization(o.organization_id, owner.user_id);
  ASSERT_TRUE(as_owner.has_value());
  EXPECT_EQ(as_owner->organization.organization_id, o.organization_id);
  EXPECT_EQ(as_owner->organization.name, "Find me");
  EXPECT_EQ(as_owner->organization.subnet, subnet("192.168.7.0/24"));
  EXPECT_EQ(as_owner->organization.owner_id, owner.user_id);
  EXPECT_EQ(as_owner->organization.policy, join_policy::open);
  EXPECT_EQ(as_owner->organization.created_at, o.created_at);
  EXPECT_EQ(as_owner->caller_role, role::owner);

  EXPECT_EQ(db().find_organization(o.organization_id, member.user_id)->caller_role, role::member);
  const auto as_stranger = db().find_organization(o.organization_id, stranger.user_id);
  ASSERT_TRUE(as_stranger.has_value());               // the organization exists ...
  EXPECT_EQ(as_stranger->caller_role, std::nullopt);  // ... but the caller is not in it
  EXPECT_EQ(as_stranger->organization.name, "Find me");

  EXPECT_FALSE(db().find_organization(o.organization_id + 1000, owner.user_id).has_value());
}

TEST_P(StoreContract, SubnetsOfEveryAllowedSizeRoundTrip) {
  const auto owner = user("owner");
  for (std::string_view block : {"10.0.0.0/8", "172.16.0.0/12", "192.168.1.4/30", "100.64.0.0/10"}) {
    const auto o = organization(owner, block);
    EXPECT_EQ(db().find_organization(o.organization_id, owner.user_id)->organization.subnet, subnet(block));
  }
}

TEST_P(StoreContract, OrganizationsMayShareASubnet) {
  const auto a = user("a");
  const auto b = user("b");
  const auto first = organization(a, "10.0.0.0/24");
  const auto second = organization(b, "10.0.0.0/24");
  EXPECT_NE(first.organization_id, second.organization_id);
  EXPECT_EQ(allocate(first, a), "10.0.0.1");
  EXPECT_EQ(allocate(second, b), "10.0.0.1");  // the same address, in another organization
}

TEST_P(StoreContract, OrganizationsOfListsOldestOrganizationFirst) {
  const auto me = user("me");
  const auto other = user("other");
  const auto stranger = user("stranger");
  const auto older = organization(other, "10.1.0.0/24", join_policy::open, "Older, joined later");
  const auto mine = organization(me, "10.2.0.0/24", join_policy::open, "Mine");
  const auto newest = organization(other, "10.3.0.0/24", join_policy::open, "Newest");
  organization(other, "10.4.0.0/24", join_policy::open, "Not mine");
  join(newest, me);
  join(older, me);

  using ids = std::vector<sig::domain::id>;
  EXPECT_EQ(ids_of(db().organizations_of(me.user_id)),
            (ids{older.organization_id, mine.organization_id, newest.organization_id}));
  EXPECT_TRUE(db().organizations_of(stranger.user_id).empty());
  const auto listed = db().organizations_of(me.user_id);
  EXPECT_EQ(listed[1].name, "Mine");
  EXPECT_EQ(listed[1].subnet, subnet("10.2.0.0/24"));
  EXPECT_EQ(listed[1].owner_id, me.user_id);

  ASSERT_TRUE(remove(newest, me).has_value());
  EXPECT_EQ(ids_of(db().organizations_of(me.user_id)), (ids{older.organization_id, mine.organization_id}));
}

// ---------------------------------------------------------------------------------------------
// Joining

TEST_P(StoreContract, AnyoneJoinsAnOpenOrganization) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner);
  const sig::unix_micros at = tick();
  const auto joined = db().join({o.organization_id, alice.user_id, std::nullopt, at});
  ASSERT_TRUE(joined.has_value());
  EXPECT_EQ(joined->organization_id, o.organization_id);
  EXPECT_EQ(joined->user_id, alice.user_id);
  EXPECT_EQ(joined->email, "alice@example.com");
  EXPECT_EQ(joined->member_role, role::member);
  EXPECT_EQ(joined->joined_at, at);

  const auto found = db().find_member(o.organization_id, alice.user_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->member_role, role::member);
  EXPECT_EQ(found->joined_at, at);
  EXPECT_EQ(found->email, "alice@example.com");
}

TEST_P(StoreContract, AnInviteCodeIsIgnoredByAnOpenOrganization) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner);
  EXPECT_TRUE(db().join({o.organization_id, alice.user_id, "no-such-code", tick()}).has_value());
}

TEST_P(StoreContract, JoiningTwiceIsAlreadyMember) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner);
  join(o, alice);
  EXPECT_EQ(error_of(db().join({o.organization_id, alice.user_id, std::nullopt, tick()})), errc::already_member);
  EXPECT_EQ(error_of(db().join({o.organization_id, owner.user_id, std::nullopt, tick()})), errc::already_member);
  EXPECT_EQ(db().members(o.organization_id).size(), 2u);
}

TEST_P(StoreContract, JoiningAnUnknownOrganizationIsOrganizationNotFound) {
  const auto alice = user("alice");
  EXPECT_EQ(error_of(db().join({424242, alice.user_id, std::nullopt, tick()})), errc::organization_not_found);
  EXPECT_TRUE(db().organizations_of(alice.user_id).empty());
}

TEST_P(StoreContract, InviteOnlyOrganizationNeedsAValidCode) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto bob = user("bob");
  const auto o = organization(owner, "10.0.0.0/24", join_policy::invite);
  const sig::unix_micros now = tick();
  db().create_invite({o.organization_id, owner.user_id, "hash-good", 5, now + 3'600'000'000, now});

  EXPECT_EQ(error_of(db().join({o.organization_id, alice.user_id, std::nullopt, now})), errc::invite_required);
  EXPECT_EQ(error_of(db().join({o.organization_id, alice.user_id, "hash-wrong", now})), errc::invite_invalid);
  EXPECT_EQ(error_of(db().join({o.organization_id, alice.user_id, "", now})), errc::invite_invalid);
  EXPECT_FALSE(db().find_member(o.organization_id, alice.user_id).has_value());

  const auto joined = db().join({o.organization_id, alice.user_id, "hash-good", now + 1});
  ASSERT_TRUE(joined.has_value());
  EXPECT_EQ(joined->member_role, role::member);
  EXPECT_TRUE(db().join({o.organization_id, bob.user_id, "hash-good", now + 2}).has_value());
}

TEST_P(StoreContract, ExpiredInviteIsInvalid) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/24", join_policy::invite);
  const sig::unix_micros expires_at = 1'800'000'000'000'000;
  db().create_invite({o.organization_id, owner.user_id, "hash-expiring", 10, expires_at, tick()});
  const auto late = user("late");
  const auto exact = user("exact");
  const auto in_time = user("in_time");
  EXPECT_EQ(error_of(db().join({o.organization_id, late.user_id, "hash-expiring", expires_at + 1})),
            errc::invite_invalid);
  EXPECT_EQ(error_of(db().join({o.organization_id, exact.user_id, "hash-expiring", expires_at})), errc::invite_invalid);
  EXPECT_TRUE(db().join({o.organization_id, in_time.user_id, "hash-expiring", expires_at - 1}).has_value());
}

TEST_P(StoreContract, UsedUpInviteIsInvalid) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/24", join_policy::invite);
  const sig::unix_micros now = tick();
  db().create_invite({o.organization_id, owner.user_id, "hash-twice", 2, now + 3'600'000'000, now});
  const auto a = user("a");
  const auto b = user("b");
  const auto c = user("c");
  EXPECT_TRUE(db().join({o.organization_id, a.user_id, "hash-twice", now}).has_value());
  EXPECT_TRUE(db().join({o.organization_id, b.user_id, "hash-twice", now}).has_value());
  EXPECT_EQ(error_of(db().join({o.organization_id, c.user_id, "hash-twice", now})), errc::invite_invalid);
  EXPECT_FALSE(db().find_member(o.organization_id, c.user_id).has_value());
}

TEST_P(StoreContract, RefusedJoinsDoNotUseUpTheInvite) {
  const auto owner = user("owner");
  const auto o = organization(owner, "10.0.0.0/24", join_policy::invite);
  const sig::unix_micros now = tick();
  db().create_invite({o.organization_id, owner.user_id, "hash-once", 1, now + 3'600'000'000, now});
  // The owner is already a member: refused before the code is counted.
  EXPECT_EQ(error_of(db().join({o.organization_id, owner.user_id, "hash-once", now})), errc::already_member);
  const auto alice = user("alice");
  EXPECT_TRUE(db().join({o.organization_id, alice.user_id, "hash-once", now}).has_value());
  EXPECT_EQ(error_of(db().join({o.organization_id, alice.user_id, "hash-once", now})), errc::already_member);
  const auto bob = user("bob");
  EXPECT_EQ(error_of(db().join({o.organization_id, bob.user_id, "hash-once", now})), errc::invite_invalid);
}

TEST_P(StoreContract, InviteOfAnotherOrganizationIsInvalid) {
  const auto owner = user("owner");
  const auto first = organization(owner, "10.0.0.0/24", join_policy::invite);
  const auto second = organization(owner, "10.1.0.0/24", join_policy::invite);
  const sig::unix_micros now = tick();
  db().create_invite({first.organization_id, owner.user_id, "hash-first", 5, now + 3'600'000'000, now});
  const auto alice = user("alice");
  EXPECT_EQ(error_of(db().join({second.organization_id, alice.user_id, "hash-first", now})), errc::invite_invalid);
  EXPECT_TRUE(db().join({first.organization_id, alice.user_id, "hash-first", now}).has_value());
}

// ---------------------------------------------------------------------------------------------
// Members

TEST_P(StoreContract, MembersAreListedInJoinOrder) {
  const auto owner = user("owner");
  const auto c = user("c");
  const auto a = user("a");
  const auto b = user("b");
  const auto o = organization(owner);
  join(o, b);
  join(o, c);
  join(o, a);
  using ids = std::vector<sig::domain::id>;
  const auto members = db().members(o.organization_id);
  EXPECT_EQ(user_ids_of(members), (ids{owner.user_id, b.user_id, c.user_id, a.user_id}));
  EXPECT_EQ(members[1].email, "b@example.com");
  EXPECT_TRUE(std::is_sorted(members.begin(), members.end(),
                             [](const auto& x, const auto& y) { return x.joined_at < y.joined_at; }));
  EXPECT_TRUE(db().members(o.organization_id + 1000).empty());
  EXPECT_FALSE(db().find_member(o.organization_id, user("stranger").user_id).has_value());
}

TEST_P(StoreContract, SetRoleChangesOneMembership) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto bob = user("bob");
  const auto o = organization(owner);
  join(o, alice);
  join(o, bob);
  const auto changed = promote(o, alice, role::admin);
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(changed->member_role, role::admin);
  EXPECT_EQ(changed->user_id, alice.user_id);
  EXPECT_EQ(changed->email, "alice@example.com");
  EXPECT_EQ(db().find_member(o.organization_id, alice.user_id)->member_role, role::admin);
  EXPECT_EQ(db().find_member(o.organization_id, bob.user_id)->member_role, role::member);
  EXPECT_EQ(db().find_organization(o.organization_id, alice.user_id)->caller_role, role::admin);

  EXPECT_EQ(promote(o, alice, role::member)->member_role, role::member);
  EXPECT_EQ(db().find_member(o.organization_id, alice.user_id)->member_role, role::member);
}

TEST_P(StoreContract, SetRoleOfANonMemberIsMemberNotFound) {
  const auto owner = user("owner");
  const auto stranger = user("stranger");
  const auto o = organization(owner);
  EXPECT_EQ(error_of(promote(o, stranger, role::admin)), errc::member_not_found);
  EXPECT_EQ(error_of(db().set_role({o.organization_id + 1000, owner.user_id, owner.user_id, role::admin})),
            errc::organization_not_found);
  EXPECT_FALSE(db().find_member(o.organization_id, stranger.user_id).has_value());
}

TEST_P(StoreContract, RemoveMemberReleasesItsAddresses) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner);
  join(o, alice);
  EXPECT_EQ(allocate(o, owner), "10.0.0.1");
  EXPECT_EQ(allocate(o, alice), "10.0.0.2");
  EXPECT_EQ(allocate(o, alice, "laptop"), "10.0.0.3");
  EXPECT_EQ(allocate(o, owner, "phone"), "10.0.0.4");

  const auto released = remove(o, alice);
  ASSERT_TRUE(released.has_value());
  ASSERT_EQ(released->released.size(), 2u);
  std::vector<std::string> addresses;
  for (const auto& a : released->released) {
    EXPECT_EQ(a.user_id, alice.user_id);
    EXPECT_EQ(a.organization_id, o.organization_id);
    addresses.push_back(sig::domain::format_ipv4(a.address));
  }
  std::sort(addresses.begin(), addresses.end());
  EXPECT_EQ(addresses, (std::vector<std::string>{"10.0.0.2", "10.0.0.3"}));

  EXPECT_FALSE(db().find_member(o.organization_id, alice.user_id).has_value());
  EXPECT_EQ(addresses_of(o), (std::vector<std::string>{"10.0.0.1", "10.0.0.4"}));
  EXPECT_FALSE(db().find_allocation(o.organization_id, ip("10.0.0.2")).has_value());
  EXPECT_TRUE(db().allocations_of(alice.user_id).empty());
  EXPECT_EQ(db().find_organization(o.organization_id, alice.user_id)->caller_role, std::nullopt);
  EXPECT_EQ(error_of(try_allocate(o, alice)), errc::not_a_member);

  // The freed addresses go to the next allocations, lowest first.
  const auto bob = user("bob");
  join(o, bob);
  EXPECT_EQ(allocate(o, bob), "10.0.0.2");
  EXPECT_EQ(allocate(o, bob, "tablet"), "10.0.0.3");
  EXPECT_EQ(allocate(o, bob, "watch"), "10.0.0.5");
}

TEST_P(StoreContract, RemoveMemberWithoutAddresses) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner);
  join(o, alice);
  const auto released = remove(o, alice);
  ASSERT_TRUE(released.has_value());
  EXPECT_TRUE(released->released.empty());
  EXPECT_TRUE(released->went_offline.empty());
  EXPECT_EQ(db().members(o.organization_id).size(), 1u);
}

TEST_P(StoreContract, RemovingANonMemberIsMemberNotFound) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto stranger = user("stranger");
  const auto o = organization(owner);
  join(o, alice);
  EXPECT_EQ(allocate(o, alice), "10.0.0.1");
  EXPECT_EQ(error_of(remove(o, stranger)), errc::member_not_found);
  EXPECT_EQ(error_of(db().remove_member({o.organization_id + 1000, owner.user_id, alice.user_id})),
            errc::organization_not_found);
  ASSERT_TRUE(remove(o, alice).has_value());
  EXPECT_EQ(error_of(remove(o, alice)), errc::member_not_found);
}

TEST_P(StoreContract, AFormerMemberCanJoinAgain) {
  const auto owner = user("owner");
  const auto alice = user("alice");
  const auto o = organization(owner);
  join(o, alice);
  ASSERT_TRUE(remove(o, alice).has_value());
  const auto again = db().join({o.organization_id, alice.user_id, std::nullopt, tick()});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->member_role, role::member);
  EXPECT_EQ(user_ids_of(db().members(o.organization_id)), (std::vector<sig::domain::id>{owner.user_id, alice.user_id}));
}

TEST_P(StoreContract, IsReachable) { EXPECT_TRUE(db().is_reachable()); }

}  // namespace
}  // namespace store_test
