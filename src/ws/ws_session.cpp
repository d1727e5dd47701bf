// The agent's WebSocket session for the server's transports: the bare TCP socket and TLS over TCP.
// The closing handshake over TLS (async_teardown for ssl_stream), found when the templates of
// ws_session.ipp are instantiated below.
#include <boost/beast/websocket/ssl.hpp>

#include "ws/ws_session.ipp"

namespace sig::ws {

template void start_ws_session(asio::ip::tcp::socket, http::request, ws_context&, http::connection_pass,
                               http::request_origin);
template void start_ws_session(http::tls_stream, http::request, ws_context&, http::connection_pass,
                               http::request_origin);
template class ws_session<asio::ip::tcp::socket>;
template class ws_session<http::tls_stream>;

}  // namespace sig::ws
