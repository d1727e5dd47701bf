// Helpers for the API unit tests: building requests and reading error answers.
#pragma once

#include "api/request.hpp"
#include "core/error.hpp"

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace api_test {

inline sig::api::api_request json_request(std::string_view body, std::string_view content_type = "application/json") {
  sig::api::api_request request;
  request.path = "/test";
  request.content_type = content_type;
  request.body = body;
  return request;
}

/// The loc of a field error as JSON, e.g. ["body","email"] or ["body",6].
inline boost::json::array loc_json(const sig::field_error& f) {
  boost::json::array loc;
  for (const auto& part : f.loc) std::visit([&](const auto& v) { loc.emplace_back(v); }, part);
  return loc;
}

inline std::string loc_text(const sig::field_error& f) { return boost::json::serialize(loc_json(f)); }

}  // namespace api_test
