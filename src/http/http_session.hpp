// One HTTP/1.1 connection (plain or TLS): reads requests under size limits and a read deadline,
// answers them in order (keep-alive), and hands WebSocket upgrades to the upgrade hooks. Runs on
// its own strand.
#pragma once

#include "http/admission.hpp"
#include "http/beast.hpp"
#include "http/session_context.hpp"

namespace sig::http {

/// Serves the connection; with context.tls set, performs the TLS handshake first. `pass` is held
/// for the connection's life; its handshake slot goes back once the first request has arrived.
asio::awaitable<void> run_http_session(tcp::socket socket, session_context& context, connection_pass pass = {});

}  // namespace sig::http
