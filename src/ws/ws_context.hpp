// What every WebSocket session shares; owned by the server, outlives the sessions.
#pragma once

#include "api/services.hpp"
#include "cluster/cluster_node.hpp"
#include "http/access_log.hpp"
#include "runtime/connection_registry.hpp"
#include "runtime/keyed_slots.hpp"
#include "runtime/worker_pool.hpp"
#include "signaling/hub.hpp"
#include "telemetry/metrics.hpp"
#include "ws/ws_options.hpp"

namespace sig::ws {

struct ws_context {
  const ws_options& options;
  signaling::hub& hub;
  api::api_services& services;
  runtime::worker_pool& database_pool;
  runtime::connection_registry& connections;
  telemetry::metrics& metrics;
  cluster::cluster_node* cluster;                       // null for a single process (SQLite)
  runtime::keyed_slots* websockets_per_user = nullptr;  // MAX_WEBSOCKETS_PER_USER; null: no limit
  const http::access_log* access = nullptr;             // null: no access log
};

}  // namespace sig::ws
