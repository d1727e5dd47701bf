// The agent's WebSocket session for the server's transports: TCP and TLS over TCP.
// The closing handshake over TLS (async_teardown for ssl_stream), found when the templates of
// ws_session.ipp are instantiated below.
#include <boost/beast/websocket/ssl.hpp>

#include "ws/ws_session.ipp"

namespace sig::ws {

template asio::awaitable<void> run_ws_session(beast::tcp_stream, http::request, ws_context&);
template asio::awaitable<void> run_ws_session(http::tls_stream, http::request, ws_context&);
template class ws_session<beast::tcp_stream>;
template class ws_session<http::tls_stream>;

}  // namespace sig::ws
