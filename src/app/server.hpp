// Builds the server from its configuration (store, auth, worker pools, transport) and runs it
// until SIGINT or SIGTERM, then shuts down gracefully.
#pragma once

#include "app/config.hpp"

namespace sig::app {

/// Returns the process exit code. Throws on start-up failures (database, port, secret file).
int run_server(const server_config& config);

}  // namespace sig::app
