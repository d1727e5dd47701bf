// domain/permissions: every actor/target role combination for removal, role change, address
// release and invite creation.
#include "domain/permissions.hpp"

#include "table.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>

namespace {

using sig::errc;
using sig::domain::id;
using sig::domain::role;
using sig::domain::to_string;
using table_test::for_each_row;

// nullopt: allowed.
using outcome = std::optional<errc>;
constexpr outcome allowed = std::nullopt;

template <class R>
outcome outcome_of(const R& r) {
  return r ? allowed : outcome{r.error().code};
}

constexpr id actor_id = 10;
constexpr id other_id = 20;

// ---------------------------------------------------------------------------------------------
// Removal

struct removal_case {
  role actor;
  role target;
  bool self;  // the actor removes itself: leaving
  outcome expected;

  friend void PrintTo(const removal_case& c, std::ostream* out) {
    *out << to_string(c.actor) << (c.self ? " leaving" : " removing ") << (c.self ? "" : to_string(c.target));
  }
};

TEST(MemberRemoval, FollowsTheRoleRules) {
  const removal_case table[] = {
      // Leaving: everyone but the owner.
      {role::owner, role::owner, true, errc::owner_cannot_leave},
      {role::admin, role::admin, true, allowed},
      {role::member, role::member, true, allowed},
      // The owner removes anyone else.
      {role::owner, role::admin, false, allowed},
      {role::owner, role::member, false, allowed},
      // An admin removes plain members only.
      {role::admin, role::owner, false, errc::forbidden},
      {role::admin, role::admin, false, errc::forbidden},
      {role::admin, role::member, false, allowed},
      // A member removes nobody else.
      {role::member, role::owner, false, errc::forbidden},
      {role::member, role::admin, false, errc::forbidden},
      {role::member, role::member, false, errc::forbidden},
  };
  for_each_row(table, [](const removal_case& row) {
    const auto result =
        sig::domain::check_member_removal(row.actor, actor_id, row.target, row.self ? actor_id : other_id);
    EXPECT_EQ(outcome_of(result), row.expected);
    if (!result) {
      EXPECT_FALSE(result.error().message().empty());
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Role change

struct role_change_case {
  role actor;
  role target;
  outcome expected;

  friend void PrintTo(const role_change_case& c, std::ostream* out) {
    *out << to_string(c.actor) << " changing " << to_string(c.target);
  }
};

TEST(RoleChange, OnlyTheOwnerChangesRolesAndNeverItsOwn) {
  const role_change_case table[] = {
      {role::owner, role::owner, errc::owner_role_fixed},
      {role::owner, role::admin, allowed},
      {role::owner, role::member, allowed},
      {role::admin, role::owner, errc::forbidden},
      {role::admin, role::admin, errc::forbidden},
      {role::admin, role::member, errc::forbidden},
      {role::member, role::owner, errc::forbidden},
      {role::member, role::admin, errc::forbidden},
      {role::member, role::member, errc::forbidden},
  };
  for_each_row(table, [](const role_change_case& row) {
    for (const role new_role : {role::admin, role::member})
      EXPECT_EQ(outcome_of(sig::domain::check_role_change(row.actor, row.target, new_role)), row.expected);
  });
}

TEST(RoleChange, NobodyIsMadeOwner) {
  for (const role target : {role::admin, role::member})
    EXPECT_EQ(outcome_of(sig::domain::check_role_change(role::owner, target, role::owner)), errc::forbidden);
}

// ---------------------------------------------------------------------------------------------
// Address release

struct release_case {
  role actor;
  bool holder;  // the actor holds the address
  outcome expected;

  friend void PrintTo(const release_case& c, std::ostream* out) {
    *out << to_string(c.actor) << (c.holder ? " (holder)" : " (not holder)");
  }
};

TEST(AddressRelease, HolderOwnerAndAdminsMayRelease) {
  const release_case table[] = {
      {role::owner, true, allowed},  {role::owner, false, allowed}, {role::admin, true, allowed},
      {role::admin, false, allowed}, {role::member, true, allowed}, {role::member, false, errc::forbidden},
  };
  for_each_row(table, [](const release_case& row) {
    EXPECT_EQ(outcome_of(sig::domain::check_address_release(row.actor, actor_id, row.holder ? actor_id : other_id)),
              row.expected);
  });
}

TEST(Invites, OwnersAndAdminsCreateThem) {
  EXPECT_TRUE(sig::domain::can_create_invites(role::owner));
  EXPECT_TRUE(sig::domain::can_create_invites(role::admin));
  EXPECT_FALSE(sig::domain::can_create_invites(role::member));
}

}  // namespace
