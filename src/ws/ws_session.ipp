// The definitions of an agent's WebSocket session (see ws_session.hpp) for any transport: included
// by ws_session.cpp, which instantiates them for TCP and TLS, and by the session tests, which
// instantiate them for boost::beast::test::stream (tests/support/ws_session_driver.hpp). Include it
// in one translation unit per transport.
#pragma once

#include "ws/ws_session.hpp"

#include "api/dispatch.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/utf8.hpp"
#include "http/log_failure.hpp"
#include "http/request_id.hpp"
#include "service/accounts.hpp"
#include "ws/close_codes.hpp"
#include "ws/handshake.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <tuple>

namespace sig::ws {

namespace protocol = signaling::errors;

namespace detail {

inline constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

// What the upgrade learns in its one trip to the database (see authenticate).
struct upgrade_lookup {
  bool valid = false;  // the token's user exists and the token is not revoked
  std::optional<store::registration_candidates> candidates;
};
// Room for a typical agent message (register, update, a small signal) in one read; see read_loop.
inline constexpr std::size_t idle_read_bytes = 256;
inline constexpr std::size_t invalid_message_kind = signaling::inbound_kind_names.size() - 1;
// At most this much per gathered write (one message larger than it goes alone): a peer catching up
// on a long queue is not given its whole backlog in one copy.
inline constexpr std::size_t max_gathered_bytes = 256 * 1024;

// The token of ?token=... (percent-decoded), else of an "Authorization: Bearer" header.
inline std::string token_of(const http::request& upgrade) {
  if (const auto target = boost::urls::parse_origin_form(upgrade.target())) {
    const auto params = target->params();
    if (const auto it = params.find("token"); it != params.end() && (*it).has_value && !(*it).value.empty())
      return (*it).value;
  }
  return std::string(api::bearer_token(upgrade[boost::beast::http::field::authorization]));
}

// Ends the connection at once. TCP (also under TLS): shut down both directions first, so that the
// peer sees the end even if something else still holds the socket. Other transports (the test
// stream): close.
inline void drop_transport(asio::ip::tcp::socket& transport) {
  beast::error_code ignored;
  transport.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  transport.close(ignored);
}

inline void drop_transport(beast::tcp_stream& transport) { drop_transport(transport.socket()); }

template <class Transport>
void drop_transport(Transport& transport) {
  transport.close();
}

}  // namespace detail

template <class Stream>
asio::awaitable<void> run_ws_session(Stream stream, http::request upgrade, ws_context& context,
                                     http::connection_pass pass, http::request_origin origin) {
  const auto session = std::make_shared<ws_session<Stream>>(std::move(stream), std::move(upgrade), context,
                                                            std::move(pass), std::move(origin));
  co_await session->run();
}

// The session is made here rather than in a run_ws_session frame: that frame would keep the
// moved-from stream and request (a few hundred bytes) for the connection's whole life.
template <class Stream>
void start_ws_session(Stream stream, http::request upgrade, ws_context& context, http::connection_pass pass,
                      http::request_origin origin) {
  const auto executor = stream.get_executor();
  auto session = std::make_shared<ws_session<Stream>>(std::move(stream), std::move(upgrade), context, std::move(pass),
                                                      std::move(origin));
  asio::co_spawn(
      executor, [session = std::move(session)] { return session->run(); }, http::log_failure("websocket session"));
}

template <class Stream>
ws_session<Stream>::ws_session(Stream stream, http::request upgrade, ws_context& context, http::connection_pass pass,
                               http::request_origin origin)
    : ws_(std::move(stream)),
      upgrade_(std::move(upgrade)),
      context_(context),
      pass_(std::move(pass)),
      wake_(ws_.get_executor()),
      send_deadline_(ws_.get_executor()),
      liveness_(ws_.get_executor()),
      rate_(context.options.rate_per_second, context.options.rate_burst),
      presence_(context.hub),
      origin_(std::move(origin)) {
  // A session started without an origin (the tests') still answers with an id.
  if (origin_.request_id.empty()) origin_.request_id = http::request_id_of((*upgrade_)["X-Request-Id"]);
}

template <class Stream>
ws_session<Stream>::~ws_session() {
  if (handshake_status_ != 101 || !context_.access || !context_.access->enabled()) return;
  try {
    log_session_end();
  } catch (...) {  // a lost log line, rather than a destructor that throws
  }
}

template <class Stream>
asio::awaitable<void> ws_session<Stream>::run() {
  if (auto refusal = handshake_refusal(*upgrade_)) co_return co_await refuse_handshake(std::move(*refusal));
  const ws_options& options = context_.options;
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options.close_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();  // liveness is ours: see write_loop
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
    res.set(boost::beast::http::field::server, "signaling-server");
    res.set("X-Request-Id", origin_.request_id);
    handshake_status_ = res.result_int();
    if (res.result() != boost::beast::http::status::switching_protocols) as_json_refusal(res);
  }));
  ws_.read_message_max(options.message_max);
  // The writer frames messages itself (write_gatherer.hpp); should a message ever be written
  // through Beast, it too goes out as one frame, not cut at Beast's 4 KiB write buffer.
  ws_.auto_fragment(false);
  ws_.control_callback([this](websocket::frame_type, beast::string_view) { last_inbound_ = clock::now(); });

  auto [accept_error] = co_await ws_.async_accept(*upgrade_, detail::as_result);
  if (accept_error) {
    if (handshake_status_ == 101) handshake_status_ = 0;  // the answer could not be sent: never opened
    log_unaccepted(upgrade_->method_string(), 0);
    co_return;
  }
  std::string token = detail::token_of(*upgrade_);
  upgrade_.reset();  // its headers are no longer needed: not kept for the connection's whole life
  opened_at_ = last_inbound_ = clock::now();
  context_.metrics.ws_opened();
  next_ping_ = opened_at_ + options.ping_interval;

  registration_.emplace(context_.connections.add([weak = this->weak_from_this(), executor = ws_.get_executor()] {
    asio::post(executor, [weak] {
      if (const auto self = weak.lock()) self->close(websocket::close_code::going_away, "server shutting down", false);
    });
  }));
  asio::co_spawn(
      ws_.get_executor(), [self = this->shared_from_this()] { return self->write_loop(); }, asio::detached);
  watch_liveness();

  // From here on the registration ends with this coroutine, whatever ends it: returning,
  // throwing, or its frame destroyed unfinished at shutdown.
  const presence_lease::end_on_exit leave_on_exit(presence_);
  try {
    co_await authenticate(std::move(token));
    co_await read_loop();
  } catch (const std::exception& e) {
    spdlog::error("websocket session failed: {}", e.what());
    close(websocket::close_code::internal_error, "internal error", false);
  }
  if (!closing_) finished_ = true;  // the peer closed or vanished: nothing more to send
  user_slot_.reset();               // the user may open another at once
  wake_writer();
}

// The transport is closed when the session ends, right after the answer.
template <class Stream>
asio::awaitable<void> ws_session<Stream>::refuse_handshake(http::response refusal) {
  refusal.set(boost::beast::http::field::server, "signaling-server");
  refusal.set("X-Request-Id", origin_.request_id);
  refusal.prepare_payload();
  handshake_status_ = refusal.result_int();
  begin_send(context_.options.send_timeout);
  auto [ec, bytes] = co_await boost::beast::http::async_write(ws_.next_layer(), refusal, detail::as_result);
  end_send();
  send_deadline_.cancel();
  log_unaccepted(upgrade_->method_string(), bytes);
}

template <class Stream>
void ws_session<Stream>::log_unaccepted(std::string_view method, std::size_t bytes_out) const {
  if (!context_.access) return;
  context_.access->request({.method = method,
                            .route = "/ws",
                            .status = handshake_status_,
                            .duration = clock::now() - created_at_,
                            .bytes_out = bytes_out,
                            .client = origin_.client,
                            .request_id = origin_.request_id});
}

template <class Stream>
void ws_session<Stream>::log_session_end() const {
  std::optional<std::uint16_t> close_code;
  if (closing_)
    close_code = closing_->code;  // ours
  else if (ws_.reason().code != websocket::close_code::none)
    close_code = ws_.reason().code;  // the peer's
  context_.access->websocket_session(
      {.method = "GET",
       .route = "/ws",
       .status = 101,
       .duration = clock::now() - created_at_,
       .bytes_in = bytes_in_,
       .bytes_out = bytes_out_,
       .client = origin_.client,
       .user_id = user_id_,
       .request_id = origin_.request_id},
      {.close_code = close_code,
       .messages_in = messages_in_,
       .messages_out = messages_out_,
       .peer_id = registered_ ? std::string_view(registered_->peer_id) : "",
       .agent_id = registered_ && registered_->agent_id ? std::string_view(*registered_->agent_id) : ""});
}

template <class Stream>
asio::awaitable<void> ws_session<Stream>::authenticate(std::string token) {
  if (token.empty()) co_return refuse(protocol::no_token);
  const auto claims = context_.services.tokens.verify(token, now_micros() / 1'000'000);
  if (!claims) co_return refuse(protocol::invalid_token);
  // A single process reads where the registration may land in the same trip to the database
  // (join_alone): one trip per connection instead of two. The ticket is taken before that read,
  // as join_alone takes its own before a lookup.
  const bool reads_ahead = !context_.cluster;
  const domain::epoch ticket = reads_ahead ? context_.hub.next_epoch() : 0;
  try {
    auto& db = context_.services.db;
    auto lookup = co_await context_.database_pool.run([&db, &claims, reads_ahead] {
      detail::upgrade_lookup found;
      found.valid = service::caller_from_token(db, *claims).has_value();
      if (found.valid && reads_ahead) found.candidates = store::read_registration_candidates(db, claims->user_id);
      return found;
    });
    if (!lookup) co_return refuse(protocol::registration_failed);  // database pool saturated
    if (!lookup->valid) co_return refuse(protocol::invalid_token);
    if (lookup->candidates)
      read_ahead_ = std::make_unique<read_ahead>(read_ahead{ticket, std::move(*lookup->candidates)});
  } catch (const std::exception& e) {
    spdlog::error("websocket authentication failed: {}", e.what());
    co_return refuse(protocol::registration_failed);
  }
  if (context_.websockets_per_user) {
    user_slot_ = context_.websockets_per_user->try_take(std::to_string(claims->user_id));
    if (!user_slot_) co_return refuse(protocol::too_many_connections);
  }
  user_id_ = claims->user_id;
}

template <class Stream>
asio::awaitable<void> ws_session<Stream>::read_loop() {
  beast::flat_buffer buffer;
  for (;;) {
    // The wait for the next message reads into a small buffer: Beast's own first read would
    // prepare 1.5 KiB, held by every idle agent for as long as it stays idle. The rest of a
    // larger message follows in reads of Beast's size (read_message_max still applies).
    auto [ec, bytes] = co_await ws_.async_read_some(buffer, detail::idle_read_bytes, detail::as_result);
    while (!ec && !ws_.is_message_done()) {
      std::tie(ec, bytes) = co_await ws_.async_read_some(buffer, 0, detail::as_result);
    }
    if (ec) break;
    last_inbound_ = clock::now();
    const auto data = buffer.cdata();
    const std::string_view message(static_cast<const char*>(data.data()), data.size());
    ++messages_in_;
    bytes_in_ += message.size();
    // Beast (1.81) skips its last UTF-8 check when a text message ends with an empty frame: a
    // message cut inside a code point would get through. RFC 6455 §8.1: fail with 1007.
    if (ws_.got_text() && !is_valid_utf8(message)) {
      close(websocket::close_code::bad_payload, "invalid UTF-8", false);
    } else if (!closing_ && !finished_ && user_id_ != 0) {
      co_await on_message(message);
    }
    // An idle agent keeps no read memory: the buffer would otherwise stay at the size of the
    // largest message it ever sent (up to the 64 KiB limit), for the connection's whole life.
    buffer.consume(buffer.size());
    buffer.shrink_to_fit();
  }
}

template <class Stream>
asio::awaitable<void> ws_session<Stream>::on_message(std::string_view text) {
  first_message_seen_ = true;
  // What was delivered to this connection before its message arrived goes out before the answer
  // (a pong says "you have everything sent to you before your ping").
  drain_inbox();
  if (!rate_.try_take()) {
    context_.metrics.ws_rate_limited();
    co_return send_error(protocol::rate_limited);
  }
  auto message = signaling::read_envelope(text);
  context_.metrics.ws_received(message ? static_cast<std::size_t>(message->type) : detail::invalid_message_kind);
  if (registered_) {
    if (!message) co_return send_error(message.error());
    co_return on_registered_message(message->body, message->type);
  }
  if (!message) co_return refuse(message.error());
  if (message->type != signaling::message_type::register_agent) co_return refuse(protocol::first_must_register);
  co_await on_register(message->body);
}

template <class Stream>
asio::awaitable<void> ws_session<Stream>::on_register(const boost::json::object& body) {
  const auto request = signaling::read_register(body);
  if (!request) co_return refuse(request.error());
  // Not a conditional expression: GCC 12 miscompiles co_await in the branches of ?: (it
  // destroys the result twice).
  std::optional<signaling::peer_info> joined;
  if (context_.cluster) {
    joined = co_await join_cluster(*request);
  } else {
    joined = co_await join_alone(*request);
  }
  if (!joined) co_return;  // refused, or ended by the hub before it began (the hub closes it)
  registered_ = *joined;
  watch_liveness();  // from now on: the idle timeout
  wake_writer();     // and the pings (the writer may have gone idle before the registration ended)
  spdlog::debug("peer {} registered at {} in organization {}", joined->peer_id, domain::format_ipv4(joined->virtual_ip),
                joined->organization_id);
}

template <class Stream>
std::optional<store::registration_target> ws_session<Stream>::read_ahead_target(
    const signaling::register_request& request, domain::epoch& ticket) {
  const auto ahead = std::move(read_ahead_);  // used once: its memory goes now
  if (!ahead || !store::still_current(ahead->candidates, context_.services.db)) return std::nullopt;
  const auto* chosen = store::choose_registration_target(ahead->candidates.targets, request.organization_id,
                                                         request.agent_id.value_or(""));
  if (!chosen) return std::nullopt;  // the lookup below tells why (not a member, no address)
  ticket = ahead->ticket;
  return *chosen;
}

// A single process: the registration lands where the upgrade's read ahead says, if still current,
// else where the database says now; then it joins the hub.
template <class Stream>
asio::awaitable<std::optional<signaling::peer_info>> ws_session<Stream>::join_alone(
    const signaling::register_request& request) {
  domain::epoch ticket = 0;
  std::optional<store::registration_target> target = read_ahead_target(request, ticket);
  if (!target) {
    // Taken before the lookup, so that a removal committing after it ends this registration too.
    ticket = context_.hub.next_epoch();
    std::optional<result<store::registration_target>> found;
    try {
      auto& db = context_.services.db;
      found = co_await context_.database_pool.run([&db, user = user_id_, &request] {
        return db.find_registration_target(user, request.organization_id, request.agent_id);
      });
    } catch (const std::exception& e) {
      spdlog::error("websocket registration failed: {}", e.what());
      refuse(protocol::registration_failed);
      co_return std::nullopt;
    }
    if (!found || !*found) {  // no target, or the database pool is saturated
      refuse(found ? registration_error(found->error().code, request.organization_id.has_value())
                   : protocol::registration_failed);
      co_return std::nullopt;
    }
    target = std::move(**found);
  }
  if (closing_ || finished_) co_return std::nullopt;

  const auto& [organization, allocation] = *target;
  signaling::peer_info peer = new_peer(request);
  peer.user_id = user_id_;
  peer.email = allocation.email;
  peer.organization_id = organization.organization_id;
  peer.virtual_ip = allocation.address;
  presence_.joining(peer);
  const auto epoch =
      context_.hub.join(this->shared_from_this(), peer, organization.subnet, ticket, issue_ice_servers());
  if (epoch) peer.registration = *epoch;
  presence_.joined(epoch ? std::optional(peer) : std::nullopt);
  if (!epoch) co_return std::nullopt;
  co_return peer;
}

// A cluster: this process's publisher claims the registration in the presence table, whose
// row locks decide take-over and removal races between processes, then joins it to the hub.
template <class Stream>
asio::awaitable<std::optional<signaling::peer_info>> ws_session<Stream>::join_cluster(
    const signaling::register_request& request) {
  store::presence_claim claim{user_id_, request.organization_id, request.agent_id, new_peer(request)};
  claim.peer.process = context_.cluster->id();
  auto initiate = [this, &claim](auto handler) {
    // The publisher calls back on its own thread; the session goes on on its own executor.
    auto resume = std::make_shared<decltype(handler)>(std::move(handler));
    auto work = asio::make_work_guard(ws_.get_executor());
    context_.cluster->register_peer(
        {std::move(claim), this->shared_from_this(),
         [resume, work](cluster::registration_outcome outcome) mutable {
           asio::post(work.get_executor(),
                      [resume, outcome = std::move(outcome)]() mutable { (*resume)(std::move(outcome)); });
         },
         issue_ice_servers()});
  };
  const cluster::registration_outcome outcome =
      co_await asio::async_initiate<decltype(asio::use_awaitable), void(cluster::registration_outcome)>(
          std::move(initiate), asio::use_awaitable);
  if (!outcome) {
    if (outcome.error().code == errc::overloaded || outcome.error().code == errc::internal)
      spdlog::warn("websocket registration failed: the cluster could not claim it");
    refuse(registration_error(outcome.error().code, request.organization_id.has_value()));
    co_return std::nullopt;
  }
  presence_.joined(*outcome);
  co_return *outcome;  // online even if closing meanwhile: the session's end takes it offline
}

template <class Stream>
std::string ws_session<Stream>::issue_ice_servers() {
  const ice_options& ice = context_.options.ice;
  if (!ice.offered()) return {};
  if (ice.issues_credentials()) ice_refresh_at_ = clock::now() + credential_refresh_delay(ice.credential_ttl);
  return ice_servers_for(ice, user_id_, now_micros() / 1'000'000);
}

template <class Stream>
signaling::peer_info ws_session<Stream>::new_peer(const signaling::register_request& request) const {
  signaling::peer_info peer;
  peer.peer_id = request.agent_id.value_or(signaling::generate_peer_id());
  peer.user_id = user_id_;
  peer.agent_id = request.agent_id;
  peer.reachable = request.reachable;
  peer.connection_id = random_uuid4();
  return peer;
}

template <class Stream>
void ws_session<Stream>::on_registered_message(const boost::json::object& body, signaling::message_type type) {
  using signaling::message_type;
  switch (type) {
    case message_type::register_agent: return send_error(protocol::already_registered);
    case message_type::ping: return enqueue(signaling::pong_message());
    case message_type::signal: {
      const auto request = signaling::read_signal(body);
      if (!request) return send_error(request.error());
      if (!context_.hub.relay(*registered_, request->to, request->data_json)) send_error(protocol::unknown_peer);
      return;
    }
    case message_type::update: {
      const auto request = signaling::read_update(body);
      if (!request) return send_error(request.error());
      if (const auto updated = context_.hub.update(*registered_, *request)) registered_->reachable = updated->reachable;
      return;
    }
    case message_type::unknown: return send_error(protocol::unknown_type);
  }
}

}  // namespace sig::ws

#include "ws/ws_session_output.ipp"
