// api/router: matching of the REST route table and of a small custom table: parameters,
// trailing slash, 404 (unknown path) versus 405 (known path, other method, with the allowed list).
#include "api/router.hpp"

#include "api/routes.hpp"
#include "table.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace {

using table_test::for_each_row;

using namespace std::string_view_literals;
using sig::api::access;
using sig::api::api_request;
using sig::api::api_response;
using sig::api::api_services;
using sig::api::http_method;
using sig::api::match_route;
using sig::api::rest_routes;
using sig::api::route;
using sig::api::route_match;
using sig::api::runs_on;
using enum http_method;

std::string param(const route_match& m, std::string_view name) {
  for (const auto& [key, value] : m.params)
    if (key == name) return std::string(value);
  return "<absent>";
}

// ---------------------------------------------------------------------------------------------
// The REST table

struct rest_case {
  http_method method;
  std::string_view path;
  std::string_view pattern;
  std::vector<std::pair<std::string_view, std::string_view>> params;

  friend void PrintTo(const rest_case& c, std::ostream* out) { *out << to_string(c.method) << " " << c.path; }
};

TEST(RestRoutes, MatchWithParameters) {
  const std::vector<rest_case> table{
      {post, "/register", "/register", {}},
      {post, "/login", "/login", {}},
      {get, "/me", "/me", {}},
      {get, "/organizations", "/organizations", {}},
      {post, "/organizations", "/organizations", {}},
      {get, "/organizations/", "/organizations", {}},  // one trailing slash
      {post, "/register/", "/register", {}},
      {get, "/organizations/42", "/organizations/{org_id}", {{"org_id", "42"}}},
      {get, "/organizations/42/peers", "/organizations/{org_id}/peers", {{"org_id", "42"}}},
      {post, "/organizations/42/join", "/organizations/{org_id}/join", {{"org_id", "42"}}},
      {post, "/organizations/3/invites", "/organizations/{org_id}/invites", {{"org_id", "3"}}},
      {get, "/organizations/42/members", "/organizations/{org_id}/members", {{"org_id", "42"}}},
      {get, "/organizations/42/members/", "/organizations/{org_id}/members", {{"org_id", "42"}}},
      {delete_,
       "/organizations/7/members/9",
       "/organizations/{org_id}/members/{user_id}",
       {{"org_id", "7"}, {"user_id", "9"}}},
      {patch,
       "/organizations/7/members/9",
       "/organizations/{org_id}/members/{user_id}",
       {{"org_id", "7"}, {"user_id", "9"}}},
      {post, "/organizations/1/allocate_ip", "/organizations/{org_id}/allocate_ip", {{"org_id", "1"}}},
      {get, "/organizations/1/ips", "/organizations/{org_id}/ips", {{"org_id", "1"}}},
      {delete_,
       "/organizations/1/ips/10.0.0.1",
       "/organizations/{org_id}/ips/{virtual_ip}",
       {{"org_id", "1"}, {"virtual_ip", "10.0.0.1"}}},
      // Parameters are captured as text; the handlers validate them.
      {get, "/organizations/abc/members", "/organizations/{org_id}/members", {{"org_id", "abc"}}},
      {get, "/organizations/%20/ips", "/organizations/{org_id}/ips", {{"org_id", "%20"}}},
      {get, "/healthz", "/healthz", {}},
      {get, "/readyz", "/readyz", {}},
      {get, "/openapi.json", "/openapi.json", {}},
      {get, "/metrics", "/metrics", {}},
      {get, "/docs", "/docs", {}},
      {get, "/redoc/", "/redoc", {}},
      // HEAD is served by the GET route (the transport drops the body).
      {head, "/healthz", "/healthz", {}},
      {head, "/organizations/9/members", "/organizations/{org_id}/members", {{"org_id", "9"}}},
  };
  for_each_row(table, [](const rest_case& row) {
    const auto& [method, path, pattern, params] = row;
    const route_match m = match_route(rest_routes(), method, path);
    ASSERT_NE(m.matched, nullptr) << to_string(method) << " " << path << " (allowed: " << m.allowed << ")";
    EXPECT_EQ(m.matched->pattern, pattern);
    EXPECT_EQ(m.matched->method, method == head ? get : method);
    ASSERT_EQ(m.params.size(), params.size()) << path;
    for (std::size_t i = 0; i < params.size(); ++i) {
      EXPECT_EQ(m.params[i].first, params[i].first);
      EXPECT_EQ(m.params[i].second, params[i].second);
    }
    EXPECT_TRUE(m.allowed.empty());
  });
}

struct not_routed_case {
  http_method method;
  std::string_view path;
  std::string_view allowed;  // empty: 404

  friend void PrintTo(const not_routed_case& c, std::ostream* out) { *out << to_string(c.method) << " " << c.path; }
};

TEST(RestRoutes, UnknownPathIs404AndOtherMethodIs405WithTheAllowedList) {
  const std::vector<not_routed_case> table{
      // 405: the path exists with other methods.
      {put, "/organizations", "POST, GET"},
      {delete_, "/organizations/", "POST, GET"},
      {get, "/register", "POST"},
      {get, "/login", "POST"},
      {post, "/me", "GET"},
      {head, "/register", "POST"},
      {head, "/organizations/1/members/2", "DELETE, PATCH"},
      {options, "/healthz", "GET"},
      {other, "/readyz", "GET"},
      {get, "/organizations/1/members/2", "DELETE, PATCH"},
      {post, "/organizations/1/members/2", "DELETE, PATCH"},
      {get, "/organizations/1/allocate_ip", "POST"},
      {post, "/organizations/1/ips", "GET"},
      {get, "/organizations/1/ips/10.0.0.1", "DELETE"},
      {delete_, "/organizations/1", "GET"},
      // 404: no such path.
      {get, "/", ""},
      {get, "", ""},
      {get, "/nope", ""},
      {get, "/Organizations", ""},
      {get, "/organizations/1/unknown", ""},
      {get, "/organizations//members", ""},
      {get, "/organizations//", ""},
      {get, "//organizations", ""},
      {get, "/organizations/1/members/2/3", ""},
      {delete_, "/organizations/1/ips//", ""},
      {get, "organizations", ""},
      {get, "/healthz/x", ""},
      {get, "/healthzz", ""},
      {get, "/register/extra", ""},
  };
  for_each_row(table, [](const not_routed_case& row) {
    const auto& [method, path, allowed] = row;
    const route_match m = match_route(rest_routes(), method, path);
    EXPECT_EQ(m.matched, nullptr) << to_string(method) << " " << path << " matched " << m.matched->pattern;
    EXPECT_EQ(m.allowed, allowed) << to_string(method) << " " << path;
    EXPECT_TRUE(m.params.empty());
  });
}

TEST(RestRouteTable, EveryRouteMatchesItself) {
  std::set<std::pair<http_method, std::string_view>> seen;
  for (const route& r : rest_routes()) {
    EXPECT_TRUE(seen.emplace(r.method, r.pattern).second) << "duplicate " << to_string(r.method) << " " << r.pattern;
    EXPECT_NE(r.handle, nullptr) << r.pattern;
    EXPECT_FALSE(r.summary.empty()) << r.pattern;
    // A concrete path: every {param} replaced by a value.
    std::string path;
    std::size_t params = 0;
    for (std::size_t i = 0; i < r.pattern.size();) {
      if (r.pattern[i] == '{') {
        path += "5";
        i = r.pattern.find('}', i) + 1;
        ++params;
      } else {
        path += r.pattern[i++];
      }
    }
    for (const std::string& candidate : {path, path + "/"}) {
      const route_match m = match_route(rest_routes(), r.method, candidate);
      ASSERT_EQ(m.matched, &r) << to_string(r.method) << " " << candidate;
      EXPECT_EQ(m.params.size(), params);
      for (const auto& [name, value] : m.params) EXPECT_EQ(value, "5") << name;
    }
  }
}

TEST(RestRouteTable, AccessAndWorkerPoolsFollowTheContract) {
  const auto find = [](http_method method, std::string_view pattern) -> const route* {
    for (const route& r : rest_routes())
      if (r.method == method && r.pattern == pattern) return &r;
    return nullptr;
  };
  for (const auto& [method, pattern] : {std::pair{post, "/register"sv},
                                        {post, "/login"sv},
                                        {get, "/healthz"sv},
                                        {get, "/readyz"sv},
                                        {get, "/openapi.json"sv}}) {
    const route* r = find(method, pattern);
    ASSERT_NE(r, nullptr) << pattern;
    EXPECT_EQ(r->who, access::anyone) << pattern;
  }
  for (const route& r : rest_routes()) {
    if (r.pattern.starts_with("/organizations") || r.pattern == "/me") {
      EXPECT_EQ(r.who, access::user) << to_string(r.method) << " " << r.pattern;
    }
  }
  // Password hashing never runs on an I/O thread.
  EXPECT_EQ(find(post, "/register")->where, runs_on::hashing);
  EXPECT_EQ(find(post, "/login")->where, runs_on::hashing);
}

// ---------------------------------------------------------------------------------------------
// A small custom table

api_response dummy(const api_request&, api_services&) { return {}; }

constexpr route custom[] = {
    route{get, "/a/static", access::anyone, runs_on::io_thread, &dummy, "static before param"},
    route{get, "/a/{x}", access::anyone, runs_on::io_thread, &dummy, "one param"},
    route{get, "/a/{x}/b/{y}", access::anyone, runs_on::io_thread, &dummy, "two params"},
    route{post, "/a/{x}/b/{y}", access::anyone, runs_on::io_thread, &dummy, "two params, post"},
    route{put, "/a/{x}/b/{y}", access::anyone, runs_on::io_thread, &dummy, "two params, put"},
    route{delete_, "/c", access::anyone, runs_on::io_thread, &dummy, "root-level"},
    route{get, "/", access::anyone, runs_on::io_thread, &dummy, "root"},
};

TEST(CustomTable, FirstMatchingRouteInTableOrderWins) {
  const route_match m = match_route(custom, get, "/a/static");
  ASSERT_NE(m.matched, nullptr);
  EXPECT_EQ(m.matched, &custom[0]);
  EXPECT_TRUE(m.params.empty());
  const route_match p = match_route(custom, get, "/a/dynamic");
  ASSERT_EQ(p.matched, &custom[1]);
  EXPECT_EQ(param(p, "x"), "dynamic");
}

TEST(CustomTable, CapturesSeveralParameters) {
  const route_match m = match_route(custom, post, "/a/one/b/two");
  ASSERT_EQ(m.matched, &custom[3]);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(param(m, "x"), "one");
  EXPECT_EQ(param(m, "y"), "two");
  // Views into the path that was matched.
  const std::string path = "/a/left/b/right";
  const route_match v = match_route(custom, put, path);
  ASSERT_EQ(v.matched, &custom[4]);
  EXPECT_EQ(v.params[0].second.data(), path.data() + 3);
}

TEST(CustomTable, MethodNotAllowedListsEveryMethodOfThePathInTableOrder) {
  const route_match m = match_route(custom, delete_, "/a/1/b/2");
  EXPECT_EQ(m.matched, nullptr);
  EXPECT_EQ(m.allowed, "GET, POST, PUT");
  const route_match c = match_route(custom, get, "/c");
  EXPECT_EQ(c.matched, nullptr);
  EXPECT_EQ(c.allowed, "DELETE");
}

TEST(CustomTable, RootAndEmptySegments) {
  EXPECT_EQ(match_route(custom, get, "/").matched, &custom[6]);
  EXPECT_EQ(match_route(custom, get, "/a").matched, nullptr);
  EXPECT_EQ(match_route(custom, get, "/a/").matched, nullptr);  // "/a/" is "/a": no route
  EXPECT_EQ(match_route(custom, get, "/a//b/2").matched, nullptr);
  EXPECT_EQ(match_route(custom, get, "/a/1/b/").matched, nullptr);
  EXPECT_EQ(match_route(custom, get, "/a/1/b").matched, nullptr);
  EXPECT_EQ(match_route(custom, get, "/a/1/b/2/").matched, &custom[2]);
  EXPECT_EQ(match_route(custom, get, "/a/1/b/2//").matched, nullptr);
}

TEST(CustomTable, EmptyTableMatchesNothing) {
  const route_match m = match_route({}, get, "/anything");
  EXPECT_EQ(m.matched, nullptr);
  EXPECT_TRUE(m.allowed.empty());
}

// ---------------------------------------------------------------------------------------------
// Methods

TEST(HttpMethod, ParsesTheStandardNamesExactly) {
  for (http_method m : {get, post, put, patch, delete_, head, options})
    EXPECT_EQ(sig::api::parse_method(to_string(m)), m) << to_string(m);
  EXPECT_EQ(sig::api::parse_method("get"), other);
  EXPECT_EQ(sig::api::parse_method("Get"), other);
  EXPECT_EQ(sig::api::parse_method("BREW"), other);
  EXPECT_EQ(sig::api::parse_method(""), other);
  EXPECT_EQ(sig::api::parse_method("GET "), other);
  EXPECT_EQ(to_string(delete_), "DELETE");
}

}  // namespace
