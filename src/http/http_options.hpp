// Limits and policies of the HTTP transport, read from the configuration once.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace sig::http {

struct http_options {
  std::size_t body_limit = 64 * 1024;     // larger bodies: 413
  std::size_t header_limit = 8 * 1024;    // larger headers: 431
  std::chrono::seconds read_timeout{30};  // a whole request, and the keep-alive idle time
  std::chrono::seconds write_timeout{30};
  std::vector<std::string> cors_origins{"*"};  // empty: no CORS headers; "*": any origin
};

}  // namespace sig::http
