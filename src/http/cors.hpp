// Cross-origin resource sharing for browser clients (CORS_ORIGINS): which origins may call the
// API, and the answer to preflight requests.
#pragma once

#include "http/beast.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sig::http {

/// The Access-Control-Allow-Origin value for `origin`, or empty when not allowed.
std::string allowed_origin(const std::vector<std::string>& allowed, std::string_view origin);

/// True for an OPTIONS request carrying Access-Control-Request-Method.
bool is_preflight(const request& req);

/// Adds the CORS headers to `res` when the request's Origin is allowed.
void add_cors_headers(const std::vector<std::string>& allowed, const request& req, response& res);

/// 204 with the allowed methods and headers (or 403 for an origin not allowed).
response preflight_response(const std::vector<std::string>& allowed, const request& req);

}  // namespace sig::http
