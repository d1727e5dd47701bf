// What every HTTP session shares: options, the API and its services, the worker pools, the
// connection registry, and the WebSocket upgrade hook. Owned by the server; outlives sessions.
#pragma once

#include "api/router.hpp"
#include "api/services.hpp"
#include "http/beast.hpp"
#include "http/http_options.hpp"
#include "runtime/connection_registry.hpp"
#include "runtime/worker_pool.hpp"

#include <functional>
#include <span>

namespace sig::http {

/// Takes over a connection whose request asks for a WebSocket upgrade.
using upgrade_fn = std::function<asio::awaitable<void>(beast::tcp_stream stream, request upgrade_request)>;

struct session_context {
  const http_options& options;
  std::span<const api::route> routes;
  api::api_services& services;
  runtime::worker_pool& database_pool;
  runtime::worker_pool& hashing_pool;
  runtime::connection_registry& connections;
  upgrade_fn upgrade;  // empty: upgrade requests are answered like any other request
  std::span<const std::string_view> upgrade_paths;  // where `upgrade` applies
};

}  // namespace sig::http
