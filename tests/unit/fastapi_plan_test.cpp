// store/fastapi_plan: what an import from the FastAPI server writes, from its rows and the
// target's, without a database; and the readers' timestamp and hash checks.
#include "store/fastapi_plan.hpp"
#include "domain/ipv4.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace {

using namespace sig::store::fastapi;

const std::string hash = "$2b$04$hzFHFCHc6GvXwOSWiEsThepLYVK0EX.SKH7.xlwyY0L80wDOffHcO";
constexpr sig::unix_micros at = 1'700'000'000'000'000;

// Users 1 (owner) and 2, organization 5 on 10.1.0.0/24, both members, addresses .1 and .3.
source_database sample() {
  source_database s;
  s.users = {{1, "Owner@Example.com", hash, at}, {2, "member@example.com", hash, at}};
  s.organizations = {{5, "office", "10.1.0.0/24", 1, at}};
  s.members = {{8, 5, 1, "owner", at}, {9, 5, 2, "member", at}};
  s.addresses = {{11, 5, 1, "10.1.0.1", at}, {12, 5, 2, "10.1.0.3", at}};
  return s;
}

sig::domain::ipv4 ip(const char* text) { return *sig::domain::parse_ipv4(text); }

bool mentions(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return l.find(part) != std::string::npos; });
}

TEST(FastapiImport, ParsesSqlAlchemyTimestampsAsUtc) {
  EXPECT_EQ(parse_naive_utc("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(parse_naive_utc("2026-11-30 08:15:42.123456"), 1'796'026'542'123'456);
  EXPECT_EQ(parse_naive_utc("2026-11-30T08:15:42.5"), 1'796'026'542'500'000);
  for (const char* bad : {"", "banana", "2026-11-30 08:15", "2026-02-31 00:00:00", "2026-11-30 08:15:42.1234567",
                          "2026-11-30 08:15:42.", "2026-13-01 00:00:00", "2026-11-30 08:15:42+01:00"})
    EXPECT_FALSE(parse_naive_utc(bad)) << bad;
}

TEST(FastapiImport, RecognisesPasslibBcryptHashes) {
  EXPECT_TRUE(is_bcrypt_hash(hash));
  EXPECT_TRUE(is_bcrypt_hash("$2a$12$" + hash.substr(7)));
  EXPECT_TRUE(is_bcrypt_hash("$2y$31$" + hash.substr(7)));
  for (const std::string& bad :
       {hash.substr(0, 59), hash + "x", "$2b$03$" + hash.substr(7), "$2b$32$" + hash.substr(7),
        "$2x$04$" + hash.substr(7), "$2b$04$!" + hash.substr(8), std::string("$argon2id$v=19$")})
    EXPECT_FALSE(is_bcrypt_hash(bad)) << bad;
}

TEST(FastapiImport, IntoAnEmptyDatabaseKeepsEveryIdAndSetsTheWatermarkPastTheImportedRun) {
  const auto plan = plan_import(sample(), {});
  ASSERT_TRUE(plan.problems.empty()) << plan.problems.front();
  ASSERT_EQ(plan.users.size(), 2u);
  EXPECT_EQ(plan.users[0].id, 1);
  EXPECT_EQ(plan.users[0].email, "owner@example.com");  // as this server stores and looks emails up
  ASSERT_EQ(plan.organizations.size(), 1u);
  EXPECT_EQ(plan.organizations[0].id, 5);
  EXPECT_EQ(plan.organizations[0].next_host, ip("10.1.0.2"));  // .2 free, .3 skipped by the allocator
  ASSERT_EQ(plan.members.size(), 2u);
  EXPECT_EQ(plan.members[1].id, 9);
  ASSERT_EQ(plan.addresses.size(), 2u);
  EXPECT_EQ(plan.addresses[1].id, 12);
  EXPECT_EQ(plan.addresses[1].address, ip("10.1.0.3"));
  EXPECT_TRUE(plan.skipped.empty());
  EXPECT_TRUE(plan.renumbered.empty());
}

TEST(FastapiImport, AnEmailAlreadyThereIsThatUserAndTakenIdsAreRenumbered) {
  target_state target;
  target.user_by_email = {{"owner@example.com", 2}};
  target.user_ids = {2};
  target.organizations = {{5, "other", sig::domain::cidr(ip("10.9.0.0"), 24), 2, at}};
  target.memberships = {{5, 2}};
  target.membership_ids = {8};
  const auto plan = plan_import(sample(), target);
  ASSERT_TRUE(plan.problems.empty()) << plan.problems.front();
  ASSERT_EQ(plan.users.size(), 1u);  // the member; the owner is target user 2
  EXPECT_EQ(plan.users[0].id, 3);    // 2 is taken
  ASSERT_EQ(plan.organizations.size(), 1u);
  EXPECT_EQ(plan.organizations[0].id, 6);
  EXPECT_EQ(plan.organizations[0].owner_id, 2);
  EXPECT_TRUE(mentions(plan.skipped, "already there as user 2"));
  EXPECT_TRUE(mentions(plan.renumbered, "organization 5 (office) is organization 6"));
  ASSERT_EQ(plan.members.size(), 2u);
  EXPECT_FALSE(plan.members[0].id);  // membership id 8 is taken: the database numbers it
  EXPECT_EQ(plan.members[1].user_id, 3);
}

TEST(FastapiImport, ASecondImportFindsEveryRowThere) {
  const auto source = sample();
  const auto first = plan_import(source, {});
  target_state target;
  for (const auto& u : first.users) {
    target.user_by_email[u.email] = u.id;
    target.user_ids.insert(u.id);
  }
  for (const auto& o : first.organizations)
    target.organizations.push_back({o.id, o.name, o.subnet, o.owner_id, o.created_at});
  for (const auto& m : first.members) target.memberships.emplace(m.organization_id, m.user_id);
  for (const auto& a : first.addresses) {
    target.address_holders[{a.organization_id, a.address}] = a.user_id;
    target.own_addresses.emplace(a.organization_id, a.user_id);
  }
  const auto second = plan_import(source, target);
  EXPECT_TRUE(second.problems.empty());
  EXPECT_TRUE(second.users.empty() && second.organizations.empty() && second.members.empty() &&
              second.addresses.empty());
  EXPECT_EQ(second.skipped.size(), 2u + 1u + 2u + 2u);
}

TEST(FastapiImport, RowsThisServerCannotTakeRefuseEverything) {
  const auto refused = [](auto change, const std::string& expected) {
    auto source = sample();
    change(source);
    const auto plan = plan_import(source, {});
    EXPECT_TRUE(mentions(plan.problems, expected)) << expected << "; got " << plan.problems.size() << " problem(s)"
                                                   << (plan.problems.empty() ? "" : ": " + plan.problems.front());
    EXPECT_TRUE(plan.users.empty() && plan.organizations.empty() && plan.members.empty() && plan.addresses.empty());
  };
  refused([](auto& s) { s.organizations[0].subnet = "banana"; }, "subnet 'banana' refused");
  refused([](auto& s) { s.organizations[0].subnet = "10.1.0.0/31"; }, "subnet '10.1.0.0/31' refused");
  refused([](auto& s) { s.organizations[0].subnet = "fd00::/64"; }, "subnet 'fd00::/64' refused");
  refused([](auto& s) { s.addresses[1].virtual_ip = "10.2.0.3"; }, "virtual IP 12 (10.2.0.3): not a host address");
  refused([](auto& s) { s.addresses[1].virtual_ip = "10.1.0.0"; }, "not a host address of 10.1.0.0/24");
  refused([](auto& s) { s.addresses[1].virtual_ip = "10.1.0.255"; }, "not a host address of 10.1.0.0/24");
  refused([](auto& s) { s.addresses[1].virtual_ip = "10.1.0.1"; }, "held twice");
  refused([](auto& s) { s.addresses[1].user_id = 3; }, "user 3 is not an imported member");
  refused([](auto& s) { s.members[1].role = "superuser"; }, "role 'superuser' is not owner, admin or member");
  refused([](auto& s) { s.members[0].role = "admin"; }, "its owner is not a member with role owner");
  refused([](auto& s) { s.users[1].email = "OWNER@example.com"; }, "is also user 1's");
  refused([](auto& s) { s.users[1].email = "not an email"; }, "email 'not an email' refused");
  refused([](auto& s) { s.users[1].hashed_password = "plain"; }, "not a bcrypt hash");
  refused([](auto& s) { s.users[1].created_at.reset(); }, "created_at is not a timestamp");
  refused([](auto& s) { s.organizations[0].owner_id = 4; }, "its owner, user 4, is not imported");
}

TEST(FastapiImport, AnAddressHeldByAnotherUserInTheTargetIsRefused) {
  const auto first = plan_import(sample(), {});
  target_state target;
  target.organizations.push_back({5, "office", sig::domain::cidr(ip("10.1.0.0"), 24), 1, at});
  target.user_by_email = {{"owner@example.com", 1}, {"member@example.com", 2}};
  target.user_ids = {1, 2};
  target.address_holders[{5, ip("10.1.0.3")}] = 1;  // the owner holds the member's address there
  const auto plan = plan_import(sample(), target);
  EXPECT_TRUE(mentions(plan.problems, "held by user 1")) << (plan.problems.empty() ? "" : plan.problems.front());
  EXPECT_TRUE(plan.members.empty());
  EXPECT_FALSE(first.users.empty());
}

}  // namespace
