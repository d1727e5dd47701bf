// Accept loop; see listener.hpp.
#include "http/listener.hpp"

#include "http/http_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace sig::http {

asio::awaitable<void> accept_connections(tcp::acceptor& acceptor, session_context& context) {
  const auto executor = co_await asio::this_coro::executor;
  for (;;) {
    auto [ec, socket] =
        co_await acceptor.async_accept(asio::make_strand(executor), asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Typically EMFILE: back off instead of spinning, and keep serving existing connections.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const auto session_executor = socket.get_executor();
    asio::co_spawn(session_executor, run_http_session(std::move(socket), context), [](std::exception_ptr failure) {
      if (!failure) return;
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        spdlog::error("connection ended by an error: {}", e.what());
      }
    });
  }
}

}  // namespace sig::http
