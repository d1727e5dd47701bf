// Route matching; see router.hpp.
#include "api/router.hpp"

namespace sig::api {
namespace {

// Matches `path` against `pattern` segment by segment, capturing {name} segments.
bool matches(std::string_view pattern, std::string_view path, path_params& params) {
  params.clear();
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern.front() != '/' || path.front() != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const std::string_view want = pattern.substr(0, pattern.find('/'));
    const std::string_view got = path.substr(0, path.find('/'));
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      if (got.empty()) return false;
      params.emplace_back(want.substr(1, want.size() - 2), got);
    } else if (want != got) {
      return false;
    }
    pattern.remove_prefix(want.size());
    path.remove_prefix(got.size());
  }
  return true;
}

}  // namespace

http_method parse_method(std::string_view text) noexcept {
  if (text == "GET") return http_method::get;
  if (text == "POST") return http_method::post;
  if (text == "PUT") return http_method::put;
  if (text == "PATCH") return http_method::patch;
  if (text == "DELETE") return http_method::delete_;
  if (text == "HEAD") return http_method::head;
  if (text == "OPTIONS") return http_method::options;
  return http_method::other;
}

std::string_view to_string(http_method m) noexcept {
  switch (m) {
    case http_method::get: return "GET";
    case http_method::post: return "POST";
    case http_method::put: return "PUT";
    case http_method::patch: return "PATCH";
    case http_method::delete_: return "DELETE";
    case http_method::head: return "HEAD";
    case http_method::options: return "OPTIONS";
    case http_method::other: return "OTHER";
  }
  return "OTHER";
}

route_match match_route(std::span<const route> table, http_method method, std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (method == http_method::head) method = http_method::get;  // the transport drops the body
  route_match result;
  path_params params;
  for (const route& r : table) {
    if (!matches(r.pattern, path, params)) continue;
    if (r.method == method) {
      result.matched = &r;
      result.params = std::move(params);
      result.allowed.clear();
      return result;
    }
    if (!result.allowed.empty()) result.allowed += ", ";
    result.allowed += to_string(r.method);
  }
  return result;
}

}  // namespace sig::api
