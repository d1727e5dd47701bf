// The accept loop: every connection gets its own strand and its own coroutine; a failure inside
// one connection is logged and ends only that connection.
#pragma once

#include "http/beast.hpp"
#include "http/session_context.hpp"

namespace sig::http {

/// Runs until the acceptor is closed.
asio::awaitable<void> accept_connections(tcp::acceptor& acceptor, session_context& context);

}  // namespace sig::http
