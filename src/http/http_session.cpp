// The HTTP connection loop; see http_session.hpp.
#include "http/http_session.hpp"

#include "http/request_handler.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

namespace sig::http {
namespace {

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

// Shared with the shutdown callback, which may only touch it on the session's strand.
struct session_state {
  explicit session_state(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool waiting_for_request = true;
  bool closing = false;
};

// What to answer when reading a request failed; nullopt: just close the connection.
std::optional<response> answer_to_read_error(const beast::error_code& ec) {
  if (ec == bhttp::error::body_limit) return plain_error(bhttp::status::payload_too_large, "Request body too large", 11);
  if (ec == bhttp::error::header_limit)
    return plain_error(bhttp::status::request_header_fields_too_large, "Request header fields too large", 11);
  const auto& parse_errors = bhttp::make_error_code(bhttp::error::end_of_stream).category();
  if (ec.category() == parse_errors && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
    return plain_error(bhttp::status::bad_request, "Malformed HTTP request", 11);
  return std::nullopt;
}

bool is_upgrade_path(const request& req, const session_context& context) {
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  return std::find(context.upgrade_paths.begin(), context.upgrade_paths.end(), path) != context.upgrade_paths.end();
}

asio::awaitable<void> send(session_state& state, response res, const session_context& context) {
  res.set(bhttp::field::server, "signaling-server");
  res.prepare_payload();
  state.stream.expires_after(context.options.write_timeout);
  co_await bhttp::async_write(state.stream, res, as_result);
}

}  // namespace

asio::awaitable<void> run_http_session(tcp::socket socket, session_context& context) {
  auto state = std::make_shared<session_state>(std::move(socket));
  const auto executor = state->stream.get_executor();
  // On shutdown, a connection waiting for its next request is closed now; one being served
  // finishes its response first.
  const auto registration = context.connections.add([executor, weak = std::weak_ptr(state)] {
    asio::post(executor, [weak] {
      const auto alive = weak.lock();
      if (!alive) return;
      alive->closing = true;
      if (alive->waiting_for_request) alive->stream.socket().cancel();
    });
  });

  beast::flat_buffer buffer;
  while (!state->closing) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(context.options.header_limit));
    parser.body_limit(context.options.body_limit);
    state->waiting_for_request = true;
    state->stream.expires_after(context.options.read_timeout);
    auto [header_ec, header_bytes] = co_await bhttp::async_read_header(state->stream, buffer, parser, as_result);
    if (!header_ec && parser.get()[bhttp::field::expect] == "100-continue" && !parser.is_done()) {
      co_await send(*state, response{bhttp::status::continue_, 11}, context);
    }
    auto [ec, bytes] = header_ec ? std::tuple{header_ec, std::size_t{0}}
                                 : co_await bhttp::async_read(state->stream, buffer, parser, as_result);
    state->waiting_for_request = false;
    if (ec) {
      if (auto answer = answer_to_read_error(ec)) co_await send(*state, std::move(*answer), context);
      break;
    }

    request req = parser.release();
    if (context.upgrade && beast::websocket::is_upgrade(req) && is_upgrade_path(req, context)) {
      state->stream.expires_never();
      co_await context.upgrade(std::move(state->stream), std::move(req));
      co_return;
    }
    response res = co_await handle_request(req, context);
    res.keep_alive(req.keep_alive() && !state->closing);
    const bool keep_alive = res.keep_alive();
    co_await send(*state, std::move(res), context);
    if (!keep_alive) break;
  }
  beast::error_code ignored;
  state->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace sig::http
