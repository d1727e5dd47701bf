// CORS headers; see cors.hpp.
#include "http/cors.hpp"

#include <algorithm>

namespace sig::http {

std::string allowed_origin(const std::vector<std::string>& allowed, std::string_view origin) {
  if (origin.empty()) return {};
  if (std::find(allowed.begin(), allowed.end(), "*") != allowed.end()) return "*";
  if (std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) return std::string(origin);
  return {};
}

bool is_preflight(const request& req) {
  return req.method() == bhttp::verb::options && req.count(bhttp::field::access_control_request_method) > 0;
}

void add_cors_headers(const std::vector<std::string>& allowed, const request& req, response& res) {
  const std::string origin = allowed_origin(allowed, req[bhttp::field::origin]);
  if (origin.empty()) return;
  res.set(bhttp::field::access_control_allow_origin, origin);
  // A browser shows a script only the CORS-safelisted headers of an answer: the request id (to
  // quote in a report) and when to retry after a 429 or 503 must be exposed.
  res.set(bhttp::field::access_control_expose_headers, "X-Request-Id, Retry-After");
  if (origin != "*") res.set(bhttp::field::vary, "Origin");
}

response preflight_response(const std::vector<std::string>& allowed, const request& req) {
  response res{bhttp::status::no_content, req.version()};
  if (allowed_origin(allowed, req[bhttp::field::origin]).empty()) {
    res.result(bhttp::status::forbidden);
    return res;
  }
  add_cors_headers(allowed, req, res);
  res.set(bhttp::field::access_control_allow_methods, "GET, POST, PATCH, DELETE, OPTIONS");
  res.set(bhttp::field::access_control_allow_headers, "Authorization, Content-Type, X-Request-Id");
  res.set(bhttp::field::access_control_max_age, "600");
  return res;
}

}  // namespace sig::http
