// What every HTTP session shares: options, the API and its services, the worker pools, the
// connection registry, TLS, and the WebSocket upgrade hooks. Owned by the server; outlives the
// sessions.
#pragma once

#include "api/router.hpp"
#include "api/services.hpp"
#include "http/access_log.hpp"
#include "http/admission.hpp"
#include "http/beast.hpp"
#include "http/http_options.hpp"
#include "runtime/connection_registry.hpp"
#include "runtime/worker_pool.hpp"
#include "telemetry/metrics.hpp"

#include <functional>
#include <span>

namespace boost::asio::ssl {
class context;
}

namespace sig::http {

/// Take over a connection whose request asks for a WebSocket upgrade (plain and TLS): start the
/// session that serves it from now on, with the connection's pass, and return. The HTTP session
/// then ends, and with it everything it held (parser, buffers, its coroutine frames).
using upgrade_fn =
    std::function<void(tcp::socket socket, request upgrade_request, connection_pass pass, request_origin origin)>;
using tls_upgrade_fn =
    std::function<void(tls_stream stream, request upgrade_request, connection_pass pass, request_origin origin)>;

struct session_context {
  const http_options& options;
  std::span<const api::route> routes;
  api::api_services& services;
  runtime::worker_pool& database_pool;
  runtime::worker_pool& hashing_pool;
  runtime::connection_registry& connections;
  telemetry::metrics& metrics;
  asio::ssl::context* tls = nullptr;  // null: plain HTTP
  upgrade_fn upgrade;                 // empty: upgrade requests are answered like any other request
  tls_upgrade_fn upgrade_tls;
  std::span<const std::string_view> upgrade_paths;  // where the upgrade hooks apply
  connection_admission* admission = nullptr;        // null: every connection is taken on
  const access_log* access = nullptr;               // null: no access log
};

}  // namespace sig::http
