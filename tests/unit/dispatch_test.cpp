// api/dispatch: the bearer scheme, token checks, and the request boundary of run_route (caller
// lookup, 401 for a vanished user, 503 for a broken database, 500 without internals otherwise).
// The store is a small in-memory fake: only find_user is ever reached.
#include "api/dispatch.hpp"

#include "api/responses.hpp"
#include "auth/password_hasher.hpp"
#include "core/clock.hpp"
#include "core/json_parse.hpp"
#include "signaling/presence_directory.hpp"
#include "store/store.hpp"
#include "telemetry/metrics.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;
using sig::errc;
using sig::api::access;
using sig::api::api_request;
using sig::api::api_response;
using sig::api::api_services;
using sig::api::bearer_token;
using sig::api::http_method;
using sig::api::route;
using sig::api::runs_on;
namespace st = sig::store;
namespace domain = sig::domain;

// ---------------------------------------------------------------------------------------------
// bearer_token

TEST(BearerToken, ExtractsTheTokenOfTheBearerScheme) {
  struct bearer_case {
    std::string_view header;
    std::string_view token;  // empty: no bearer token
  };
  const bearer_case table[] = {
      {"Bearer abc.def.ghi", "abc.def.ghi"},
      {"bearer abc", "abc"},
      {"BEARER abc", "abc"},
      {"bEaReR abc", "abc"},
      {"Bearer   abc  ", "abc"},
      {"Bearer", ""},
      {"Bearer ", ""},
      {"Bearer    ", ""},
      {"", ""},
      {"Basic dXNlcjpwYXNz", ""},
      {"Bearerabc", ""},
      {"Token abc", ""},
      {" Bearer abc", ""},
      {"Bearer\tabc", ""},
      {"Bearers abc", ""},
  };
  for (const auto& [header, token] : table) EXPECT_EQ(bearer_token(header), token) << '"' << header << '"';
}

// ---------------------------------------------------------------------------------------------
// bearer_matches (METRICS_TOKEN)

TEST(BearerMatches, AcceptsExactlyTheExpectedTokenUnderTheBearerScheme) {
  constexpr std::string_view expected = "0123456789abcdef-metrics";
  EXPECT_TRUE(sig::api::bearer_matches("Bearer 0123456789abcdef-metrics", expected));
  EXPECT_TRUE(sig::api::bearer_matches("bearer 0123456789abcdef-metrics", expected));
  EXPECT_FALSE(sig::api::bearer_matches("", expected));
  EXPECT_FALSE(sig::api::bearer_matches("0123456789abcdef-metrics", expected));  // no scheme
  EXPECT_FALSE(sig::api::bearer_matches("Basic 0123456789abcdef-metrics", expected));
  EXPECT_FALSE(sig::api::bearer_matches("Bearer 0123456789abcdef-metricS", expected));  // last byte differs
  EXPECT_FALSE(sig::api::bearer_matches("Bearer 0123456789abcdef-metric", expected));   // a prefix
  EXPECT_FALSE(sig::api::bearer_matches("Bearer 0123456789abcdef-metrics0", expected));
  EXPECT_FALSE(sig::api::bearer_matches("Bearer ", ""));  // nothing configured matches nothing
}

// ---------------------------------------------------------------------------------------------
// authenticate_bearer

class Authenticate : public testing::Test {
 protected:
  sig::auth::jwt_codec codec{"dispatch-test-secret", 1800s};
  std::int64_t now() const { return sig::now_micros() / 1'000'000; }
};

TEST_F(Authenticate, ValidTokenGivesTheUserIdAndStamp) {
  const auto claims = sig::api::authenticate_bearer("Bearer " + codec.issue(77, "test-stamp", now()), codec);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->user_id, 77);
  EXPECT_EQ(claims->stamp, "test-stamp");
}

TEST_F(Authenticate, NoBearerTokenIsNotAuthenticated) {
  for (std::string_view header : {""sv, "Basic abc"sv, "Bearer"sv, "Bearer  "sv}) {
    const auto id = sig::api::authenticate_bearer(header, codec);
    ASSERT_FALSE(id.has_value()) << header;
    EXPECT_EQ(id.error().code, errc::not_authenticated) << header;
  }
}

TEST_F(Authenticate, BadTokensAreInvalid) {
  const sig::auth::jwt_codec other("other-secret", 1800s);
  for (const std::string& token :
       {std::string("garbage"), other.issue(77, "test-stamp", now()), codec.issue(77, "test-stamp", now() - 3600),
        codec.issue(77, "test-stamp", now()) + "x"}) {
    const auto id = sig::api::authenticate_bearer("Bearer " + token, codec);
    ASSERT_FALSE(id.has_value()) << token;
    EXPECT_EQ(id.error().code, errc::invalid_token) << token;
    EXPECT_EQ(sig::api::http_status(id.error().code), 401u);
  }
}

// ---------------------------------------------------------------------------------------------
// run_route

// Knows one user; every other call is a test failure.
class fake_store final : public st::store {
 public:
  std::optional<domain::user> known{domain::user{7, "seven@example.com", "hash", 1, "stamp-of-seven"}};
  bool unavailable = false;

  std::optional<domain::user> find_user(st::id user_id) override {
    if (unavailable) throw st::store_unavailable("database is locked");
    if (known && known->user_id == user_id) return known;
    return std::nullopt;
  }

  sig::result<domain::user> create_user(const st::new_user&) override { unexpected_call(); }
  std::optional<domain::user> find_user_by_email(std::string_view) override { unexpected_call(); }
  void update_password_hash(st::id, std::string_view) override { unexpected_call(); }
  bool replace_token_stamp(st::id, std::string_view) override { unexpected_call(); }
  domain::organization create_organization(const st::new_organization&) override { unexpected_call(); }
  std::optional<st::organization_access> find_organization(st::id, st::id) override { unexpected_call(); }
  std::vector<domain::organization> organizations_of(st::id) override { unexpected_call(); }
  sig::result<domain::membership> join(const st::join_request&) override { unexpected_call(); }
  void create_invite(const st::new_invite&) override { unexpected_call(); }
  std::vector<domain::membership> members(st::id) override { unexpected_call(); }
  std::optional<domain::membership> find_member(st::id, st::id) override { unexpected_call(); }
  sig::result<st::removal> remove_member(const st::member_change&) override { unexpected_call(); }
  sig::result<domain::membership> set_role(const st::role_change&) override { unexpected_call(); }
  sig::result<domain::allocation> allocate(const st::allocation_request&) override { unexpected_call(); }
  std::vector<domain::allocation> allocations(st::id) override { unexpected_call(); }
  std::optional<domain::allocation> find_allocation(st::id, domain::ipv4) override { unexpected_call(); }
  std::vector<domain::allocation> allocations_of(st::id) override { unexpected_call(); }
  sig::result<st::removal> release(const st::release_request&) override { unexpected_call(); }
  sig::result<st::registration_target> find_registration_target(st::id, std::optional<st::id>,
                                                                const std::optional<std::string>&) override {
    unexpected_call();
  }
  std::vector<st::registration_target> registration_candidates(st::id, std::size_t) override { unexpected_call(); }
  std::optional<std::uint64_t> local_write_count() const noexcept override { return std::nullopt; }
  std::vector<domain::user> users() override { unexpected_call(); }
  std::vector<domain::organization> all_organizations() override { unexpected_call(); }
  sig::result<st::removal> delete_user(st::id) override { unexpected_call(); }
  sig::result<st::removal> delete_organization(st::id) override { unexpected_call(); }
  bool is_reachable() override { return true; }

 private:
  [[noreturn]] static void unexpected_call() {
    ADD_FAILURE() << "unexpected store call";
    throw std::logic_error("fake_store: unexpected call");
  }
};

class no_presence final : public sig::signaling::presence_directory {
 public:
  std::vector<sig::signaling::peer_info> online_peers(sig::domain::id) const override { return {}; }
  void disconnect(sig::domain::id, std::span<const sig::domain::ended_presence>) override {}
  std::size_t online_count() const override { return 0; }
};

api_response echo_caller(const api_request& request, api_services&) {
  return sig::api::json_response(
      boost::json::object{{"caller", request.user().user_id}, {"email", request.user().email}});
}
api_response anonymous(const api_request& request, api_services&) {
  return sig::api::json_response(boost::json::object{{"has_caller", request.caller.has_value()}});
}
api_response throws_store(const api_request&, api_services&) { throw st::store_unavailable("disk I/O error"); }
api_response throws_runtime(const api_request&, api_services&) {
  throw std::runtime_error("secret internal detail /var/lib/db");
}
api_response throws_anything(const api_request&, api_services&) { throw 42; }

class RunRoute : public testing::Test {
 protected:
  fake_store db;
  sig::auth::password_hasher hasher{sig::auth::password_cost{8, 1}};
  sig::auth::jwt_codec tokens{"run-route-secret", 1800s};
  no_presence presence;
  sig::telemetry::metrics metrics{{}, {}, {}};
  api_services services{db, hasher, tokens, presence, metrics};
  api_request request;

  api_response run(sig::api::handler_fn handler, access who, std::optional<sig::domain::id> user_id,
                   std::string stamp = "stamp-of-seven") {
    const route r{http_method::get, "/test", who, runs_on::io_thread, handler, "test"};
    request.path = "/test";
    std::optional<sig::auth::token_claims> token;
    if (user_id) token = sig::auth::token_claims{*user_id, std::move(stamp), 0, 0, ""};
    return sig::api::run_route(r, request, token, services);
  }

  static boost::json::value body(const api_response& r) {
    const auto parsed = sig::parse_json(r.body);
    if (!parsed) {
      ADD_FAILURE() << "not JSON: " << r.body;
      return {};
    }
    return *parsed;
  }
};

TEST_F(RunRoute, LoadsTheCallerForUserRoutes) {
  const auto response = run(&echo_caller, access::user, 7);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(body(response), boost::json::parse(R"({"caller":7,"email":"seven@example.com"})"));
}

TEST_F(RunRoute, VanishedUserIs401WithWwwAuthenticate) {
  const auto response = run(&echo_caller, access::user, 8);
  EXPECT_EQ(response.status, 401u);
  EXPECT_EQ(body(response), boost::json::parse(R"({"detail":"Could not validate credentials"})"));
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(response.headers[0].second, "Bearer");
}

TEST_F(RunRoute, TokenWithAnotherStampIs401) {
  // The user's id was reused (a database reset) or the user logged out: the stamp differs.
  for (const std::string stamp : {"stamp-of-another-seven", ""}) {
    const auto response = run(&echo_caller, access::user, 7, stamp);
    EXPECT_EQ(response.status, 401u) << stamp;
    EXPECT_EQ(body(response), boost::json::parse(R"({"detail":"Could not validate credentials"})"));
  }
}

TEST_F(RunRoute, AnonymousRoutesNeverTouchTheStore) {
  const auto response = run(&anonymous, access::anyone, std::nullopt);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(body(response), boost::json::parse(R"({"has_caller":false})"));
}

TEST_F(RunRoute, BrokenDatabaseIs503WithRetryAfter) {
  const auto from_handler = run(&throws_store, access::anyone, std::nullopt);
  EXPECT_EQ(from_handler.status, 503u);
  db.unavailable = true;
  const auto from_lookup = run(&echo_caller, access::user, 7);
  EXPECT_EQ(from_lookup.status, 503u);
  for (const auto& response : {from_handler, from_lookup}) {
    bool retry_after = false;
    for (const auto& [name, value] : response.headers) retry_after |= name == "Retry-After";
    EXPECT_TRUE(retry_after);
    EXPECT_EQ(response.body.find("disk I/O"), std::string::npos) << response.body;
    EXPECT_EQ(response.body.find("locked"), std::string::npos) << response.body;
  }
}

TEST_F(RunRoute, OtherExceptionsAre500WithoutInternals) {
  for (const auto handler : {&throws_runtime, &throws_anything}) {
    const auto response = run(handler, access::anyone, std::nullopt);
    EXPECT_EQ(response.status, 500u);
    EXPECT_EQ(body(response), boost::json::parse(R"({"detail":"Internal server error"})"));
  }
}

}  // namespace
