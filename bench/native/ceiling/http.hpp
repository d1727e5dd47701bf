// The HTTP side of the ceiling server: a request as parsed, and answers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server.hpp"

namespace ceiling {

struct request {
  std::string_view method;
  std::string_view path;   // without the query
  std::string_view query;  // after '?', if any
  std::string_view authorization;
  std::string_view body;
  bool upgrade = false;
  std::string_view websocket_key;
};

// Queues a response with a JSON body.
void respond(server& s, conn& c, int status, std::string_view body);
// The user a bearer token (or ?token=) names, 0 if none: see main.cpp for what tokens are here.
std::int64_t authenticate(const model& m, std::string_view token);
// Handles a REST call.
void rest_route(server& s, conn& c, const request& r);
// Completes a /ws upgrade.
void ws_upgrade(server& s, conn& c, const request& r);

}  // namespace ceiling
