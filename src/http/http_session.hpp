// One HTTP/1.1 connection: reads requests under size limits and a read deadline, answers them in
// order (keep-alive), and hands WebSocket upgrades to the upgrade hook. Runs on its own strand.
#pragma once

#include "http/beast.hpp"
#include "http/session_context.hpp"

namespace sig::http {

asio::awaitable<void> run_http_session(tcp::socket socket, session_context& context);

}  // namespace sig::http
