// The HTTP connection loop; see http_session.hpp.
#include "http/http_session.hpp"

#include "http/client_address.hpp"
#include "http/request_handler.hpp"
#include "http/request_id.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <memory>

namespace sig::http {
namespace {

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);
constexpr auto tls_handshake_timeout = std::chrono::seconds(10);
// On shutdown, how long a connection that has not sent its first request yet (it was accepted
// just before) is given to send it: a client that connected expects an answer.
constexpr auto shutdown_first_request_grace = std::chrono::seconds(2);
constexpr std::string_view request_id_header = "X-Request-Id";

// Shared with the shutdown callback, which may only touch it on the session's strand.
template <class Stream>
struct session_state {
  template <class... Args>
  explicit session_state(Args&&... args) : stream(std::forward<Args>(args)...), shutdown_timer(stream.get_executor()) {}
  Stream stream;
  asio::steady_timer shutdown_timer;  // bounds the wait for a first request once shutdown began
  beast::flat_buffer buffer;
  bool waiting_for_request = true;
  bool closing = false;
  std::size_t requests = 0;  // requests read so far
};

// RFC 9112 §6.1: a transfer coding the server does not understand is answered 501. Beast
// decodes chunked only, so anything but a single "chunked" would be misread (as an empty body).
bool has_unsupported_transfer_coding(const request& req) {
  const auto coding = req.find(bhttp::field::transfer_encoding);
  if (coding == req.end()) return false;
  std::string_view value = coding->value();
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return !beast::iequals(value, "chunked");
}

// What to answer when reading a request failed; nullopt: just close the connection.
std::optional<response> answer_to_read_error(const beast::error_code& ec) {
  if (ec == bhttp::error::body_limit)
    return plain_error(bhttp::status::payload_too_large, "Request body too large", 11);
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

// Returns the bytes written. `request_id` (none on interim responses) is echoed as X-Request-Id.
template <class Stream>
asio::awaitable<std::size_t> send(Stream& stream, response res, const session_context& context,
                                  std::string_view request_id = {}) {
  res.set(bhttp::field::server, "signaling-server");
  if (!request_id.empty()) res.set(request_id_header, request_id);
  const unsigned status = res.result_int();
  // No length on 1xx, 204 and 304; a HEAD response carries the length of the body it omits.
  if (status >= 200 && status != 204 && status != 304 && !res.has_content_length()) res.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(context.options.write_timeout);
  auto [ec, bytes] = co_await bhttp::async_write(stream, res, as_result);
  co_return bytes;
}

// One request as the access log sees it once it is answered. `head` may be a request whose header
// or body could not be read whole (answered 400, 413, 431 or 501).
struct answered_request {
  const request& head;
  std::string_view route;  // a template from the route table, else the path (loggable_path)
  unsigned status;
  std::chrono::steady_clock::time_point started;
  std::uint64_t bytes_in;
  std::size_t bytes_out;
  std::string_view client;
  std::int64_t user_id;
  std::string_view request_id;
};

void log_request(const session_context& context, const answered_request& answered) {
  if (!context.access || !context.access->enabled()) return;
  context.access->request({.method = answered.head.method_string(),
                           .route = answered.route,
                           .status = answered.status,
                           .duration = std::chrono::steady_clock::now() - answered.started,
                           .bytes_in = answered.bytes_in,
                           .bytes_out = answered.bytes_out,
                           .client = answered.client,
                           .user_id = answered.user_id,
                           .request_id = answered.request_id});
}

// Answers a request that could not be read whole (`head` is what was read of it), and logs it.
template <class Stream>
asio::awaitable<void> refuse_request(Stream& stream, const session_context& context, const request& head,
                                     std::uint64_t bytes_in, std::chrono::steady_clock::time_point started,
                                     const asio::ip::address& peer, response refusal) {
  const std::string request_id = request_id_of(head[request_id_header]);
  const unsigned status = refusal.result_int();
  const std::size_t bytes_out = co_await send(stream, std::move(refusal), context, request_id);
  const std::string client = client_address(peer, head["X-Forwarded-For"], context.admission);
  log_request(context,
              {head, loggable_path(head.target()), status, started, bytes_in, bytes_out, client, 0, request_id});
}

// The WebSocket session gets the bare socket on plain TCP: it keeps its own deadlines, and every
// move of a beast::tcp_stream allocates a new one (its timers included).
template <class Stream>
void hand_over(Stream& stream, request req, session_context& context, connection_pass pass, request_origin origin) {
  if constexpr (std::is_same_v<Stream, tls_stream>)
    context.upgrade_tls(std::move(stream), std::move(req), std::move(pass), std::move(origin));
  else
    context.upgrade(stream.release_socket(), std::move(req), std::move(pass), std::move(origin));
}

// Requests until the connection closes; returns true when the connection was handed to a
// WebSocket session (which took `pass`).
template <class Stream>
asio::awaitable<bool> serve_requests(const std::shared_ptr<session_state<Stream>>& state, session_context& context,
                                     connection_pass& pass, const asio::ip::address& peer) {
  auto& stream = state->stream;
  auto& buffer = state->buffer;
  while (!state->closing || state->requests == 0) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(context.options.header_limit));
    parser.body_limit(context.options.body_limit);
    state->waiting_for_request = true;
    beast::get_lowest_layer(stream).expires_after(context.options.read_timeout);
    if (state->closing) beast::get_lowest_layer(stream).expires_after(shutdown_first_request_grace);
    auto [header_ec, header_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, as_result);
    const auto started = std::chrono::steady_clock::now();
    if (!header_ec) {
      ++state->requests;
      pass.handshake.reset();
    }
    if (!header_ec && has_unsupported_transfer_coding(parser.get())) {
      state->waiting_for_request = false;
      co_await refuse_request(stream, context, parser.get(), header_bytes, started, peer,
                              plain_error(bhttp::status::not_implemented, "Transfer-Encoding not supported", 11));
      co_return false;
    }
    if (!header_ec && parser.get()[bhttp::field::expect] == "100-continue" && !parser.is_done())
      co_await send(stream, response{bhttp::status::continue_, 11}, context);
    auto [ec, bytes] = header_ec ? std::tuple{header_ec, std::size_t{0}}
                                 : co_await bhttp::async_read(stream, buffer, parser, as_result);
    state->waiting_for_request = false;
    if (ec) {
      if (auto answer = answer_to_read_error(ec))
        co_await refuse_request(stream, context, parser.get(), header_bytes + bytes, started, peer, std::move(*answer));
      co_return false;
    }

    request req = parser.release();
    std::string request_id = request_id_of(req[request_id_header]);
    std::string client = client_address(peer, req["X-Forwarded-For"], context.admission);
    const bool can_upgrade = std::is_same_v<Stream, tls_stream> ? bool(context.upgrade_tls) : bool(context.upgrade);
    // Every request to the WebSocket paths goes to the WebSocket layer, which refuses what is not a
    // valid upgrade with a JSON answer (405, 426, 400), and logs it.
    if (can_upgrade && is_upgrade_path(req, context)) {
      beast::get_lowest_layer(stream).expires_never();
      hand_over(stream, std::move(req), context, std::move(pass), {std::move(client), std::move(request_id)});
      co_return true;
    }
    request_outcome outcome;
    response res = co_await handle_request(req, context, client, outcome);
    res.keep_alive(req.keep_alive() && !state->closing);
    const bool keep_alive = res.keep_alive();
    const unsigned status = res.result_int();
    const std::size_t bytes_out = co_await send(stream, std::move(res), context, request_id);
    const std::string_view route = outcome.route_index < context.routes.size()
                                       ? context.routes[outcome.route_index].pattern
                                       : loggable_path(req.target());
    log_request(context,
                {req, route, status, started, header_bytes + bytes, bytes_out, client, outcome.user_id, request_id});
    if (!keep_alive) co_return false;
  }
  co_return false;
}

// On shutdown, a connection waiting for its next request is closed now, unless it has not sent
// its first one yet (see shutdown_first_request_grace); one being served finishes its response
// first.
template <class Stream>
runtime::connection_registry::entry track(const std::shared_ptr<session_state<Stream>>& state,
                                          session_context& context) {
  return context.connections.add([executor = state->stream.get_executor(), weak = std::weak_ptr(state)] {
    asio::post(executor, [weak] {
      const auto alive = weak.lock();
      if (!alive) return;
      alive->closing = true;
      if (!alive->waiting_for_request) return;
      if (alive->requests > 0 && alive->buffer.size() == 0) {
        beast::get_lowest_layer(alive->stream).socket().cancel();
        return;
      }
      // The read under way keeps its own deadline; this one ends the wait sooner.
      alive->shutdown_timer.expires_after(shutdown_first_request_grace);
      alive->shutdown_timer.async_wait([weak](const beast::error_code& ec) {
        const auto still = weak.lock();
        if (!ec && still && still->waiting_for_request) beast::get_lowest_layer(still->stream).socket().cancel();
      });
    });
  });
}

}  // namespace

asio::awaitable<void> run_http_session(tcp::socket socket, session_context& context, connection_pass pass) {
  pass.counted = telemetry::counted_connection(context.metrics);
  beast::error_code ignored;
  const asio::ip::address peer = socket.remote_endpoint(ignored).address();
  if (!context.tls) {
    const auto state = std::make_shared<session_state<beast::tcp_stream>>(std::move(socket));
    const auto registration = track(state, context);
    if (co_await serve_requests(state, context, pass, peer)) co_return;
    state->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }
  const auto state = std::make_shared<session_state<tls_stream>>(std::move(socket), *context.tls);
  const auto registration = track(state, context);
  beast::get_lowest_layer(state->stream).expires_after(tls_handshake_timeout);
  auto [handshake_ec] = co_await state->stream.async_handshake(asio::ssl::stream_base::server, as_result);
  if (handshake_ec) co_return;
  if (co_await serve_requests(state, context, pass, peer)) co_return;
  beast::get_lowest_layer(state->stream).expires_after(tls_handshake_timeout);
  co_await state->stream.async_shutdown(as_result);
}

}  // namespace sig::http
