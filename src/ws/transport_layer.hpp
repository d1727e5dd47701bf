// What the layers this project puts between Beast's WebSocket stream and the connection
// (close_code_filter, write_gatherer) share: they end the closing handshake the way their next
// layer does (TCP shutdown, TLS close_notify, the test stream's close). Beast finds these by
// argument-dependent lookup; a layer opts in by specializing is_transport_layer.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <type_traits>
#include <utility>

namespace sig::ws {

template <class Layer>
struct is_transport_layer : std::false_type {};

template <class Layer>
concept transport_layer = is_transport_layer<Layer>::value;

template <transport_layer Layer>
void teardown(boost::beast::role_type role, Layer& layer, boost::beast::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, layer.next_layer(), ec);
}

template <transport_layer Layer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, Layer& layer, TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, layer.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace sig::ws
