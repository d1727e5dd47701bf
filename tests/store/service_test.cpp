// The service layer (sig_service) on a real store: membership and role checks for removal, role
// change, address release, allocation and invites, and accounts. Run for every store factory.
#include "auth/jwt.hpp"
#include "auth/password_hasher.hpp"
#include "service/accounts.hpp"
#include "service/addresses.hpp"
#include "service/organizations.hpp"
#include "store_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace store_test {
namespace {

using namespace std::chrono_literals;
using domain::role;
namespace service = sig::service;

class Service : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    owner = user("owner");
    admin = user("admin");
    alice = user("alice");
    bob = user("bob");
    stranger = user("stranger");
    org = organization(owner, "10.0.0.0/24");
    join(org, admin);
    join(org, alice);
    join(org, bob);
    ASSERT_TRUE(promote(org, admin, role::admin).has_value());
  }

  std::optional<role> role_of(const domain::user& u) {
    const auto m = db().find_member(org.organization_id, u.user_id);
    return m ? std::optional<role>(m->member_role) : std::nullopt;
  }

  std::string allocate_via_service(const domain::user& caller, std::string agent_id = {}) {
    const auto a = service::allocate_address(db(), caller, org.organization_id, {std::move(agent_id), std::nullopt}, 0);
    return domain::format_ipv4(must(a, "allocate_address").address);
  }

  domain::user owner, admin, alice, bob, stranger;
  domain::organization org;
};

INSTANTIATE_TEST_SUITE_P(Stores, Service, testing::ValuesIn(store_factories()), factory_name);

// ---------------------------------------------------------------------------------------------
// Removal

TEST_P(Service, OwnerRemovesAnyoneElse) {
  EXPECT_EQ(allocate_via_service(admin), "10.0.0.1");
  const auto removed = service::remove_member(db(), owner, org.organization_id, admin.user_id);
  ASSERT_TRUE(removed.has_value());
  ASSERT_EQ(removed->released.size(), 1u);
  EXPECT_EQ(removed->released[0].address, ip("10.0.0.1"));
  EXPECT_EQ(role_of(admin), std::nullopt);
  EXPECT_TRUE(service::remove_member(db(), owner, org.organization_id, alice.user_id).has_value());
}

TEST_P(Service, AdminRemovesPlainMembersOnly) {
  EXPECT_TRUE(service::remove_member(db(), admin, org.organization_id, alice.user_id).has_value());
  EXPECT_EQ(role_of(alice), std::nullopt);
  const auto second_admin = user("admin2");
  join(org, second_admin);
  ASSERT_TRUE(promote(org, second_admin, role::admin).has_value());
  EXPECT_EQ(error_of(service::remove_member(db(), admin, org.organization_id, second_admin.user_id)), errc::forbidden);
  EXPECT_EQ(error_of(service::remove_member(db(), admin, org.organization_id, owner.user_id)), errc::forbidden);
  EXPECT_EQ(role_of(second_admin), role::admin);
  EXPECT_EQ(role_of(owner), role::owner);
}

TEST_P(Service, MembersRemoveOnlyThemselves) {
  EXPECT_EQ(allocate_via_service(bob), "10.0.0.1");
  EXPECT_EQ(error_of(service::remove_member(db(), alice, org.organization_id, bob.user_id)), errc::forbidden);
  EXPECT_EQ(error_of(service::remove_member(db(), alice, org.organization_id, admin.user_id)), errc::forbidden);
  EXPECT_EQ(error_of(service::remove_member(db(), alice, org.organization_id, owner.user_id)), errc::forbidden);
  EXPECT_EQ(role_of(bob), role::member);
  EXPECT_TRUE(db().find_allocation(org.organization_id, ip("10.0.0.1")).has_value());

  const auto left = service::remove_member(db(), bob, org.organization_id, bob.user_id);
  ASSERT_TRUE(left.has_value());
  ASSERT_EQ(left->released.size(), 1u);
  EXPECT_EQ(role_of(bob), std::nullopt);
  EXPECT_FALSE(db().find_allocation(org.organization_id, ip("10.0.0.1")).has_value());
  EXPECT_TRUE(service::remove_member(db(), admin, org.organization_id, admin.user_id).has_value());  // admins leave
}

TEST_P(Service, TheOwnerCannotLeave) {
  EXPECT_EQ(error_of(service::remove_member(db(), owner, org.organization_id, owner.user_id)),
            errc::owner_cannot_leave);
  EXPECT_EQ(role_of(owner), role::owner);
}

TEST_P(Service, RemovalNeedsAMemberCallerAnExistingOrganizationAndTarget) {
  EXPECT_EQ(error_of(service::remove_member(db(), stranger, org.organization_id, alice.user_id)), errc::not_a_member);
  EXPECT_EQ(error_of(service::remove_member(db(), owner, org.organization_id + 1000, alice.user_id)),
            errc::organization_not_found);
  EXPECT_EQ(error_of(service::remove_member(db(), owner, org.organization_id, stranger.user_id)),
            errc::member_not_found);
  EXPECT_EQ(role_of(alice), role::member);
}

// ---------------------------------------------------------------------------------------------
// Role change

TEST_P(Service, OnlyTheOwnerChangesRoles) {
  const auto promoted = service::change_role(db(), owner, org.organization_id, alice.user_id, role::admin);
  ASSERT_TRUE(promoted.has_value());
  EXPECT_EQ(promoted->member_role, role::admin);
  EXPECT_EQ(role_of(alice), role::admin);
  EXPECT_TRUE(service::change_role(db(), owner, org.organization_id, alice.user_id, role::member).has_value());
  EXPECT_EQ(role_of(alice), role::member);

  EXPECT_EQ(error_of(service::change_role(db(), admin, org.organization_id, bob.user_id, role::admin)),
            errc::forbidden);
  EXPECT_EQ(error_of(service::change_role(db(), alice, org.organization_id, bob.user_id, role::admin)),
            errc::forbidden);
  EXPECT_EQ(error_of(service::change_role(db(), alice, org.organization_id, alice.user_id, role::admin)),
            errc::forbidden);
  EXPECT_EQ(role_of(bob), role::member);
  EXPECT_EQ(role_of(alice), role::member);
}

TEST_P(Service, TheOwnersRoleIsFixed) {
  EXPECT_EQ(error_of(service::change_role(db(), owner, org.organization_id, owner.user_id, role::member)),
            errc::owner_role_fixed);
  EXPECT_EQ(role_of(owner), role::owner);
}

TEST_P(Service, RoleChangeNeedsAMemberCallerAndTarget) {
  EXPECT_EQ(error_of(service::change_role(db(), stranger, org.organization_id, alice.user_id, role::admin)),
            errc::not_a_member);
  EXPECT_EQ(error_of(service::change_role(db(), owner, org.organization_id, stranger.user_id, role::admin)),
            errc::member_not_found);
  EXPECT_EQ(error_of(service::change_role(db(), owner, org.organization_id + 1000, alice.user_id, role::admin)),
            errc::organization_not_found);
}

// ---------------------------------------------------------------------------------------------
// Addresses

TEST_P(Service, HolderOwnerAndAdminsReleaseAddresses) {
  EXPECT_EQ(allocate_via_service(alice), "10.0.0.1");
  EXPECT_EQ(allocate_via_service(bob), "10.0.0.2");
  EXPECT_EQ(allocate_via_service(admin), "10.0.0.3");
  EXPECT_EQ(allocate_via_service(owner), "10.0.0.4");

  EXPECT_EQ(error_of(service::release_address(db(), alice, org.organization_id, ip("10.0.0.2"))), errc::forbidden);
  EXPECT_EQ(error_of(service::release_address(db(), alice, org.organization_id, ip("10.0.0.3"))), errc::forbidden);
  EXPECT_TRUE(db().find_allocation(org.organization_id, ip("10.0.0.2")).has_value());

  const auto own = service::release_address(db(), alice, org.organization_id, ip("10.0.0.1"));
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->released.front().user_id, alice.user_id);
  EXPECT_TRUE(service::release_address(db(), admin, org.organization_id, ip("10.0.0.2")).has_value());
  EXPECT_TRUE(service::release_address(db(), owner, org.organization_id, ip("10.0.0.3")).has_value());
  EXPECT_TRUE(service::release_address(db(), admin, org.organization_id, ip("10.0.0.4")).has_value());
  EXPECT_TRUE(db().allocations(org.organization_id).empty());
}

TEST_P(Service, ReleaseErrors) {
  EXPECT_EQ(allocate_via_service(alice), "10.0.0.1");
  EXPECT_EQ(error_of(service::release_address(db(), owner, org.organization_id, ip("10.0.0.9"))),
            errc::address_not_found);
  EXPECT_EQ(error_of(service::release_address(db(), stranger, org.organization_id, ip("10.0.0.1"))),
            errc::not_a_member);
  EXPECT_EQ(error_of(service::release_address(db(), owner, org.organization_id + 1000, ip("10.0.0.1"))),
            errc::organization_not_found);
  EXPECT_TRUE(db().find_allocation(org.organization_id, ip("10.0.0.1")).has_value());
}

TEST_P(Service, SpecificAddressesAreCheckedAgainstTheSubnet) {
  for (const char* outside : {"10.0.1.1", "10.0.0.0", "10.0.0.255", "192.168.0.1"}) {
    const auto a = service::allocate_address(db(), alice, org.organization_id, {"", std::string(outside)}, 0);
    ASSERT_EQ(error_of(a), errc::validation_failed) << outside;
    ASSERT_EQ(a.error().fields.size(), 1u);
    EXPECT_EQ(a.error().fields[0].loc, (std::vector<sig::loc_part>{"body", "virtual_ip"})) << outside;
    EXPECT_EQ(a.error().fields[0].type, "value_error.ipv4address.outside_subnet") << outside;
  }
  const auto garbage = service::allocate_address(db(), alice, org.organization_id, {"", std::string("10.0.0")}, 0);
  ASSERT_EQ(error_of(garbage), errc::validation_failed);
  EXPECT_EQ(garbage.error().fields[0].type, "value_error.ipv4address");
  EXPECT_TRUE(db().allocations(org.organization_id).empty());

  const auto inside = service::allocate_address(db(), alice, org.organization_id, {"", std::string("10.0.0.200")}, 0);
  ASSERT_TRUE(inside.has_value());
  EXPECT_EQ(inside->address, ip("10.0.0.200"));
  EXPECT_EQ(error_of(service::allocate_address(db(), bob, org.organization_id, {"", std::string("10.0.0.200")}, 0)),
            errc::address_taken);
}

TEST_P(Service, AllocationAndListingNeedMembership) {
  EXPECT_EQ(error_of(service::allocate_address(db(), stranger, org.organization_id, {}, 0)), errc::not_a_member);
  EXPECT_EQ(error_of(service::allocate_address(db(), owner, org.organization_id + 1000, {}, 0)),
            errc::organization_not_found);
  EXPECT_EQ(error_of(service::list_addresses(db(), stranger, org.organization_id)), errc::not_a_member);
  EXPECT_EQ(error_of(service::list_members(db(), stranger, org.organization_id)), errc::not_a_member);
  EXPECT_EQ(error_of(service::list_members(db(), owner, org.organization_id + 1000)), errc::organization_not_found);
  EXPECT_EQ(must(service::list_members(db(), alice, org.organization_id), "list_members").size(), 4u);
  EXPECT_EQ(allocate_via_service(alice), "10.0.0.1");
  EXPECT_EQ(allocate_via_service(alice), "10.0.0.1");
  EXPECT_EQ(must(service::list_addresses(db(), bob, org.organization_id), "list_addresses").size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Invites

TEST_P(Service, InviteCodesLetPeopleJoinInviteOnlyOrganizations) {
  const auto closed = organization(owner, "10.9.0.0/24", domain::join_policy::invite, "Closed");
  const auto invite = service::create_invite(db(), owner, closed.organization_id, {2, 3600});
  ASSERT_TRUE(invite.has_value());
  EXPECT_EQ(invite->code.size(), 22u);
  EXPECT_EQ(invite->max_uses, 2);
  EXPECT_EQ(invite->organization_id, closed.organization_id);

  EXPECT_EQ(error_of(service::join_organization(db(), alice, closed.organization_id, std::nullopt)),
            errc::invite_required);
  EXPECT_EQ(error_of(service::join_organization(db(), alice, closed.organization_id, std::string("wrong-code"))),
            errc::invite_invalid);
  // The store only ever sees a hash of the code: the code itself is not a valid hash.
  EXPECT_EQ(error_of(db().join({closed.organization_id, alice.user_id, invite->code, sig::now_micros()})),
            errc::invite_invalid);
  EXPECT_TRUE(service::join_organization(db(), alice, closed.organization_id, invite->code).has_value());
  EXPECT_TRUE(service::join_organization(db(), bob, closed.organization_id, invite->code).has_value());
  EXPECT_EQ(error_of(service::join_organization(db(), admin, closed.organization_id, invite->code)),
            errc::invite_invalid);  // used up
}

TEST_P(Service, OwnersAndAdminsCreateInvites) {
  EXPECT_TRUE(service::create_invite(db(), admin, org.organization_id, {}).has_value());
  EXPECT_EQ(error_of(service::create_invite(db(), alice, org.organization_id, {})), errc::forbidden);
  EXPECT_EQ(error_of(service::create_invite(db(), stranger, org.organization_id, {})), errc::not_a_member);
  EXPECT_EQ(error_of(service::create_invite(db(), owner, org.organization_id + 1000, {})),
            errc::organization_not_found);
  const auto a = service::create_invite(db(), owner, org.organization_id, {});
  const auto b = service::create_invite(db(), owner, org.organization_id, {});
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->code, b->code);
}

// ---------------------------------------------------------------------------------------------
// Accounts

TEST_P(Service, RegisterAndLogin) {
  const sig::auth::password_hasher hasher({8, 1});
  const sig::auth::jwt_codec tokens("service-test-secret", 1800s);
  const auto carol = service::register_user(db(), hasher, "carol@example.com", "correct horse");
  ASSERT_TRUE(carol.has_value());
  EXPECT_TRUE(carol->password_hash.starts_with("$argon2id$"));
  EXPECT_TRUE(hasher.verify(db().find_user(carol->user_id)->password_hash, "correct horse"));
  EXPECT_EQ(error_of(service::register_user(db(), hasher, "carol@example.com", "another one")), errc::email_taken);

  const auto issued = service::login(db(), hasher, tokens, "carol@example.com", "correct horse");
  ASSERT_TRUE(issued.has_value());
  EXPECT_EQ(issued->expires_in, 1800);
  const auto claims = tokens.verify(issued->access_token, sig::now_micros() / 1'000'000);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->user_id, carol->user_id);

  // The email is matched case-insensitively; wrong passwords and unknown emails look the same.
  EXPECT_TRUE(service::login(db(), hasher, tokens, "Carol@Example.COM", "correct horse").has_value());
  EXPECT_EQ(error_of(service::login(db(), hasher, tokens, "carol@example.com", "wrong horse")), errc::bad_credentials);
  EXPECT_EQ(error_of(service::login(db(), hasher, tokens, "nobody@example.com", "correct horse")),
            errc::bad_credentials);
  EXPECT_EQ(error_of(service::login(db(), hasher, tokens, std::string(300, 'a') + "@example.com", "x")),
            errc::bad_credentials);
}

TEST_P(Service, LoginRehashesWhenTheCostChanged) {
  const sig::auth::password_hasher cheap({8, 1});
  const sig::auth::password_hasher costlier({16, 2});
  const sig::auth::jwt_codec tokens("service-test-secret", 1800s);
  const auto dave = must(service::register_user(db(), cheap, "dave@example.com", "dave's password"), "register");
  ASSERT_TRUE(service::login(db(), costlier, tokens, "dave@example.com", "dave's password").has_value());
  const std::string rehashed = db().find_user(dave.user_id)->password_hash;
  EXPECT_TRUE(rehashed.starts_with("$argon2id$v=19$m=16,t=2,p=1$")) << rehashed;
  EXPECT_TRUE(costlier.verify(rehashed, "dave's password"));
  // A failed login changes nothing.
  ASSERT_FALSE(service::login(db(), cheap, tokens, "dave@example.com", "wrong").has_value());
  EXPECT_EQ(db().find_user(dave.user_id)->password_hash, rehashed);
}

TEST_P(Service, TokensOfVanishedUsersAreInvalid) {
  const sig::auth::token_claims of_alice{alice.user_id, alice.token_stamp, 0, 0, ""};
  EXPECT_EQ(must(service::caller_from_token(db(), of_alice), "caller").email, "alice@example.com");
  EXPECT_EQ(error_of(service::caller_from_token(db(), {alice.user_id + 100'000, alice.token_stamp, 0, 0, ""})),
            errc::invalid_token);
}

TEST_P(Service, TokensNameTheirUserForGood) {
  const sig::auth::password_hasher hasher({8, 1});
  const sig::auth::jwt_codec tokens("service-test-secret-of-32-bytes-or-more", 1800s);
  const auto erin = must(service::register_user(db(), hasher, "erin@example.com", "erin's password"), "register");
  ASSERT_EQ(erin.token_stamp.size(), 32u);
  EXPECT_NE(erin.token_stamp, alice.token_stamp);
  const auto issued = must(service::login(db(), hasher, tokens, "erin@example.com", "erin's password"), "login");
  const auto claims = tokens.verify(issued.access_token, sig::now_micros() / 1'000'000);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->stamp, erin.token_stamp);
  EXPECT_TRUE(service::caller_from_token(db(), *claims).has_value());
  // A token without a stamp, or another user's stamp, never names erin.
  EXPECT_EQ(error_of(service::caller_from_token(db(), {erin.user_id, "", 0, 0, ""})), errc::invalid_token);
  EXPECT_EQ(error_of(service::caller_from_token(db(), {erin.user_id, alice.token_stamp, 0, 0, ""})),
            errc::invalid_token);

  // Logging out revokes every token issued so far; a new login works.
  service::revoke_tokens(db(), erin);
  EXPECT_EQ(error_of(service::caller_from_token(db(), *claims)), errc::invalid_token);
  const auto again = must(service::login(db(), hasher, tokens, "erin@example.com", "erin's password"), "login");
  const auto new_claims = tokens.verify(again.access_token, sig::now_micros() / 1'000'000);
  ASSERT_TRUE(new_claims.has_value());
  EXPECT_TRUE(service::caller_from_token(db(), *new_claims).has_value());
}

}  // namespace
}  // namespace store_test
