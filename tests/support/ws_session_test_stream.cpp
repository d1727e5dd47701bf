// The agent's WebSocket session instantiated for boost::beast::test::stream: the sessions that the
// tests (and the fuzz target of message handling) drive without sockets. See ws_session_driver.hpp.
#include "ws_session_driver.hpp"

#include <boost/beast/_experimental/test/stream.hpp>

#include "ws/ws_session.ipp"

namespace sig::ws {

template class ws_session<beast::test::stream>;

asio::awaitable<void> run_test_session(beast::test::stream stream, http::request upgrade, ws_context& context) {
  return run_ws_session(std::move(stream), std::move(upgrade), context);
}

}  // namespace sig::ws
