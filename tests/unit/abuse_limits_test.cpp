// The building blocks of the abuse limits: token buckets by key (core/keyed_rate_limiter), slots
// by key (runtime/keyed_slots), the throttle of password routes (api/credential_throttle), the
// client address behind a trusted proxy (http/client_address) and the address quota
// (domain/permissions).
#include "api/credential_throttle.hpp"
#include "core/keyed_rate_limiter.hpp"
#include "domain/permissions.hpp"
#include "http/client_address.hpp"
#include "runtime/keyed_slots.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = sig::keyed_rate_limiter::clock;

TEST(KeyedRateLimiter, EachKeyHasItsOwnBurstThenItsRate) {
  sig::keyed_rate_limiter limiter(2.0, 3);  // 2 per second after 3 at once
  const auto t0 = clock_type::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.take("a", t0), clock_type::duration::zero());
  const auto wait = limiter.take("a", t0);
  EXPECT_GT(wait, 0ms);
  EXPECT_LE(wait, 500ms);
  EXPECT_EQ(limiter.take("b", t0), clock_type::duration::zero());  // another key is not affected
  EXPECT_EQ(limiter.take("a", t0 + 500ms), clock_type::duration::zero());
  EXPECT_GT(limiter.take("a", t0 + 500ms), 0ms);
  EXPECT_EQ(limiter.take("a", t0 + 10s), clock_type::duration::zero());  // refilled, but only to the burst
  EXPECT_EQ(limiter.take("a", t0 + 10s), clock_type::duration::zero());
  EXPECT_EQ(limiter.take("a", t0 + 10s), clock_type::duration::zero());
  EXPECT_GT(limiter.take("a", t0 + 10s), 0ms);
}

TEST(KeyedRateLimiter, GivingBackRestoresOneEventUpToTheBurst) {
  sig::keyed_rate_limiter limiter(0.001, 1);
  const auto t0 = clock_type::now();
  EXPECT_EQ(limiter.take("k", t0), clock_type::duration::zero());
  EXPECT_GT(limiter.take("k", t0), 0ms);
  limiter.give_back("k", t0);
  EXPECT_EQ(limiter.take("k", t0), clock_type::duration::zero());
  limiter.give_back("k", t0);
  limiter.give_back("k", t0);  // never beyond the burst
  EXPECT_EQ(limiter.take("k", t0), clock_type::duration::zero());
  EXPECT_GT(limiter.take("k", t0), 0ms);
}

TEST(KeyedRateLimiter, RateZeroIsOff) {
  sig::keyed_rate_limiter limiter(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.take("k"), clock_type::duration::zero());
  EXPECT_FALSE(limiter.enabled());
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(KeyedRateLimiter, TheTableOfKeysIsBounded) {
  sig::keyed_rate_limiter limiter(1.0, 2, 100);
  const auto t0 = clock_type::now();
  for (int i = 0; i < 10'000; ++i) limiter.take("key-" + std::to_string(i), t0);
  EXPECT_LE(limiter.size(), 100u);
  // Idle keys are forgotten first: a key in use keeps its state while fresh ones come and go.
  sig::keyed_rate_limiter idle_first(1.0, 2, 10);
  idle_first.take("busy", t0);
  idle_first.take("busy", t0);
  for (int i = 0; i < 8; ++i) idle_first.take("once-" + std::to_string(i), t0);
  for (int i = 0; i < 20; ++i) idle_first.take("later-" + std::to_string(i), t0 + 5s);
  EXPECT_LE(idle_first.size(), 10u);
}

TEST(KeyedRateLimiter, ConcurrentTakesNeverExceedTheBurst) {
  sig::keyed_rate_limiter limiter(0.001, 50);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i)
        if (limiter.take("shared") == clock_type::duration::zero()) ++taken;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.load(), 50);
}

TEST(KeyedSlots, AtMostLimitHoldersPerKeyAndSlotsComeBack) {
  sig::runtime::keyed_slots slots(2);
  auto a = slots.try_take("x");
  auto b = slots.try_take("x");
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(slots.try_take("x"));
  EXPECT_TRUE(slots.try_take("y"));  // and given back at once (a temporary)
  EXPECT_EQ(slots.held("x"), 2u);
  EXPECT_EQ(slots.held("y"), 0u);
  a.reset();
  EXPECT_EQ(slots.held("x"), 1u);
  auto c = slots.try_take("x");
  ASSERT_TRUE(c);
  c->release();
  c->release();  // idempotent
  EXPECT_EQ(slots.held("x"), 1u);
  auto moved = std::move(*b);
  b.reset();  // the moved-from slot gives nothing back
  EXPECT_EQ(slots.held("x"), 1u);
}

TEST(KeyedSlots, ZeroMeansNoLimit) {
  sig::runtime::keyed_slots slots(0);
  std::vector<sig::runtime::keyed_slots::slot> held;
  for (int i = 0; i < 1000; ++i) held.push_back(std::move(*slots.try_take("k")));
  EXPECT_EQ(slots.held("k"), 1000u);
}

sig::api::api_request body_request(std::string_view body, std::string_view content_type = "application/json") {
  sig::api::api_request request;
  request.body = body;
  request.content_type = content_type;
  return request;
}

TEST(CredentialThrottle, TheAccountIsTheEmailOrUsernameLowerCased) {
  EXPECT_EQ(sig::api::account_named_by(body_request(R"({"email":"Alice@Example.COM","password":"x"})")),
            "alice@example.com");
  EXPECT_EQ(sig::api::account_named_by(
                body_request("username=Bob%40Example.com&password=x", "application/x-www-form-urlencoded")),
            "bob@example.com");
  for (const std::string_view body : {"", "not json", "[]", R"({"email":1})", R"({"password":"x"})"})
    EXPECT_EQ(sig::api::account_named_by(body_request(body)), "") << body;
}

TEST(CredentialThrottle, AddressesCountEveryAttemptAccountsOnlyFailures) {
  sig::api::credential_throttle throttle({60.0 * 0.001, 3, 60.0 * 0.001, 2});
  const auto alice = body_request(R"({"email":"alice@example.com","password":"x"})");
  // Successes do not count against the account...
  for (int i = 0; i < 3; ++i) {
    auto attempt = throttle.admit("10.0.0.1", alice);
    ASSERT_TRUE(attempt.has_value()) << i;
    throttle.finish(*attempt, 200);
  }
  // ...but every attempt counts against the address.
  const auto refused = throttle.admit("10.0.0.1", alice);
  ASSERT_FALSE(refused.has_value());
  EXPECT_GE(refused.error(), 1s);
  // Failures from other addresses count against the account.
  for (const char* address : {"10.0.0.2", "10.0.0.3"}) {
    auto attempt = throttle.admit(address, alice);
    ASSERT_TRUE(attempt.has_value()) << address;
    throttle.finish(*attempt, 401);
  }
  EXPECT_FALSE(throttle.admit("10.0.0.4", alice).has_value());
  EXPECT_TRUE(throttle.admit("10.0.0.4", body_request(R"({"email":"bob@example.com","password":"x"})")).has_value());
}

TEST(ClientAddress, OnlyATrustedProxyIsBelievedAndOnlyItsOwnEntry) {
  namespace ip = boost::asio::ip;
  sig::http::admission_limits limits;
  limits.trusted_proxies = {ip::make_address("10.1.1.1")};
  const sig::http::connection_admission admission(limits);
  const auto proxy = ip::make_address("10.1.1.1");
  const auto stranger = ip::make_address("192.0.2.7");
  EXPECT_EQ(sig::http::client_address(proxy, "6.6.6.6, 203.0.113.5", &admission), "203.0.113.5");
  EXPECT_EQ(sig::http::client_address(proxy, " 203.0.113.5 ", &admission), "203.0.113.5");
  EXPECT_EQ(sig::http::client_address(proxy, "", &admission), "10.1.1.1");
  EXPECT_EQ(sig::http::client_address(proxy, "garbage", &admission), "10.1.1.1");
  EXPECT_EQ(sig::http::client_address(stranger, "203.0.113.5", &admission), "192.0.2.7");
  EXPECT_EQ(sig::http::client_address(stranger, "203.0.113.5", nullptr), "192.0.2.7");
}

TEST(ConnectionAdmission, PerAddressAndHandshakeCaps) {
  namespace ip = boost::asio::ip;
  sig::http::admission_limits limits;
  limits.connections_per_address = 2;
  limits.pending_handshakes = 3;
  limits.trusted_proxies = {ip::make_address("10.1.1.1")};
  sig::http::connection_admission admission(limits);
  const auto a = ip::make_address("192.0.2.1");
  auto first = admission.admit(a);
  auto second = admission.admit(a);
  ASSERT_TRUE(first && second);
  const auto third = admission.admit(a);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error(), "Too many connections from this address");
  auto proxied = admission.admit(ip::make_address("10.1.1.1"));
  ASSERT_TRUE(proxied);  // a trusted proxy is not limited per address...
  const auto busy = admission.admit(ip::make_address("192.0.2.2"));
  ASSERT_FALSE(busy);  // ...but counts against the handshakes in progress
  EXPECT_EQ(busy.error(), "Too many connections in progress, retry later");
  first->handshake.reset();  // its first request arrived
  EXPECT_TRUE(admission.admit(ip::make_address("192.0.2.2")));
}

TEST(AddressQuota, PlainMembersOnly) {
  using sig::domain::role;
  EXPECT_TRUE(sig::domain::check_address_quota(role::member, 15, 16));
  const auto over = sig::domain::check_address_quota(role::member, 16, 16);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, sig::errc::address_quota_exceeded);
  EXPECT_EQ(over.error().message(),
            "Address quota exceeded: a member may hold at most 16 addresses in an organization");
  EXPECT_TRUE(sig::domain::check_address_quota(role::admin, 1000, 16));
  EXPECT_TRUE(sig::domain::check_address_quota(role::owner, 1000, 16));
  EXPECT_TRUE(sig::domain::check_address_quota(role::member, 1000, 0));
}

}  // namespace
