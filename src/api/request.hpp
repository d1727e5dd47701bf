// What an API handler sees of an HTTP exchange, free of any transport type: the request parts it
// reads, and the response it returns. The http layer converts to and from Beast.
#pragma once

#include "domain/model.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sig::api {

using path_params = std::vector<std::pair<std::string_view, std::string_view>>;

struct api_request {
  std::string_view path;
  std::string_view content_type;
  std::string_view body;
  path_params params;
  std::optional<domain::user> caller;  // set for routes that need a user, before the handler runs
  std::string_view authorization{};    // the Authorization header (for tokens other than users')

  std::string_view param(std::string_view name) const noexcept {
    for (const auto& [key, value] : params)
      if (key == name) return value;
    return {};
  }
  const domain::user& user() const { return caller.value(); }
};

struct api_response {
  unsigned status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  std::vector<std::pair<std::string_view, std::string>> headers;  // extra headers
};

}  // namespace sig::api
