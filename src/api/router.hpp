// Routes as one plain table: method, path pattern with {params}, who may call it, where it runs,
// the handler and a one-line summary. Matching tells an unknown path (404) from a known path
// with the wrong method (405).
#pragma once

#include "api/request.hpp"
#include "api/services.hpp"

#include <span>
#include <string>
#include <string_view>

namespace sig::api {

enum class http_method { get, post, put, patch, delete_, head, options, other };

http_method parse_method(std::string_view text) noexcept;
std::string_view to_string(http_method m) noexcept;

enum class access { anyone, user };  // user: a valid bearer token of an existing user

/// Blocking work never runs on an I/O thread: handlers say which worker pool they need.
enum class runs_on { io_thread, database, hashing };

using handler_fn = api_response (*)(const api_request&, api_services&);

struct route {
  http_method method;
  std::string_view pattern;  // "/organizations/{org_id}/members"
  access who;
  runs_on where;
  handler_fn handle;
  std::string_view summary;
};

struct route_match {
  const route* matched = nullptr;
  path_params params;   // views into the matched path
  std::string allowed;  // when nothing matched but the path exists: "GET, POST"
};

/// One trailing slash is ignored ("/organizations/" is "/organizations"); HEAD matches GET routes.
route_match match_route(std::span<const route> table, http_method method, std::string_view path);

}  // namespace sig::api
