// From a parsed HTTP request to its response: routing, bearer authentication, running the API
// handler on the worker pool its route names (503 with Retry-After when that pool is
// saturated), and CORS.
#pragma once

#include "http/beast.hpp"
#include "http/session_context.hpp"

namespace sig::http {

/// What the access log tells of a handled request besides its response.
struct request_outcome {
  std::size_t route_index = telemetry::metrics::unmatched_route;  // into session_context::routes
  std::int64_t user_id = 0;  // the user a bearer token authenticated; 0: none (or answered 401)
};

/// `client` is the request's client address (http/client_address.hpp), which the throttling of
/// password routes keys on.
asio::awaitable<response> handle_request(const request& req, session_context& context, std::string_view client,
                                         request_outcome& outcome);

/// A response with a {"detail"} body, for failures found before routing (413, 431, 400).
response plain_error(bhttp::status status, std::string_view detail, unsigned version);

}  // namespace sig::http
