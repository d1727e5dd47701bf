// One agent's WebSocket connection (PROTOCOL.md §5): authentication, registration, then the
// message loop, with a separate writer coroutine draining a bounded outbound queue. Everything
// runs on the connection's strand; the hub reaches it only through deliver() and disconnect(),
// which post to that strand.
#pragma once

#include "http/access_log.hpp"
#include "http/admission.hpp"
#include "http/beast.hpp"
#include "signaling/peer_connection.hpp"
#include "store/registration_candidates.hpp"
#include "ws/close_code_filter.hpp"
#include "ws/outbound_queue.hpp"
#include "ws/presence_lease.hpp"
#include "ws/write_gatherer.hpp"
#include "ws/ws_context.hpp"

#include "core/token_bucket.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace sig::ws {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

/// Accepts the upgrade and serves the connection until it ends; `pass` (the connection's admission,
/// its place in the graceful shutdown and in the metrics) is held as long as the session lives.
/// `Stream` is the bare TCP socket or http::tls_stream (both are instantiated in ws_session.cpp);
/// the tests instantiate it for beast::test::stream (the definitions are in ws_session.ipp).
template <class Stream>
asio::awaitable<void> run_ws_session(Stream stream, http::request upgrade, ws_context& context,
                                     http::connection_pass pass = {}, http::request_origin origin = {});

/// Makes the session and runs it as a coroutine of its own on the stream's executor (the server's
/// upgrade hook). `origin`: the upgrade's client address and request id, for the access log.
template <class Stream>
void start_ws_session(Stream stream, http::request upgrade, ws_context& context, http::connection_pass pass,
                      http::request_origin origin);

template <class Stream>
class ws_session final : public signaling::peer_connection, public std::enable_shared_from_this<ws_session<Stream>> {
 public:
  ws_session(Stream stream, http::request upgrade, ws_context& context, http::connection_pass pass,
             http::request_origin origin);
  /// Writes the session's access log line, once both coroutines are over.
  ~ws_session() override;

  asio::awaitable<void> run();

  void deliver(signaling::shared_message message) override;
  void disconnect(signaling::close_reason reason) override;

 private:
  using clock = std::chrono::steady_clock;

  asio::awaitable<void> write_loop();
  asio::awaitable<void> read_loop();
  /// Answers a request that cannot be upgraded (see handshake.hpp).
  asio::awaitable<void> refuse_handshake(http::response refusal);
  asio::awaitable<void> authenticate(std::string token);
  asio::awaitable<void> on_message(std::string_view text);
  asio::awaitable<void> on_register(const boost::json::object& body);
  asio::awaitable<std::optional<signaling::peer_info>> join_alone(const signaling::register_request& request);
  /// The target read ahead at the upgrade (authenticate), if nothing was written to the database
  /// since and one fits; `ticket` is then the hub epoch taken before that read.
  std::optional<store::registration_target> read_ahead_target(const signaling::register_request& request,
                                                              domain::epoch& ticket);
  asio::awaitable<std::optional<signaling::peer_info>> join_cluster(const signaling::register_request& request);
  /// The registration's peer as far as the request tells: ids, endpoints, a new connection id.
  signaling::peer_info new_peer(const signaling::register_request& request) const;
  void on_registered_message(const boost::json::object& body, signaling::message_type type);

  void enqueue(signaling::shared_message message);
  void send_error(std::string_view error);
  /// Sends the error, then closes with 1008: every failure before registration ends this way.
  void refuse(std::string_view error);
  /// Starts closing (once): the writer sends the close frame after the queue if `drain`, else at
  /// once, dropping what was queued.
  void close(websocket::close_code code, std::string_view reason, bool drain);
  /// Ends the TCP connection at once, for peers that cannot even take a close frame.
  void abort();
  void wake_writer();
  void begin_send(std::chrono::milliseconds limit);
  void end_send();
  void watch_send();
  void drain_inbox();
  /// Enforces the registration deadline and the idle timeout; re-arms itself.
  void watch_liveness();
  /// The access log line of an upgrade that was not accepted (refused, or the connection failed).
  void log_unaccepted(std::string_view method, std::size_t bytes_out) const;
  void log_session_end() const;
  /// The "ice_servers" of this session's user now (empty when none are offered), and when to send
  /// fresh TURN credentials (ice_refresh_at_).
  std::string issue_ice_servers();

  websocket::stream<write_gatherer<close_code_filter<Stream>>> ws_;
  std::optional<http::request> upgrade_;  // until the handshake is over
  ws_context& context_;
  http::connection_pass pass_;
  asio::steady_timer wake_;
  asio::steady_timer send_deadline_;
  asio::steady_timer liveness_;
  std::mutex inbox_mutex_;
  std::vector<signaling::shared_message> inbox_;  // guarded by inbox_mutex_
  bool drain_posted_ = false;                     // guarded by inbox_mutex_
  outbound_queue queue_;
  std::optional<clock::time_point> send_started_;  // a frame, ping or close is being sent
  std::chrono::milliseconds send_limit_{0};
  bool send_watch_armed_ = false;
  bool writer_waiting_ = false;  // the writer waits on wake_ (see wake_writer)
  std::optional<websocket::close_reason> closing_;
  bool drain_before_close_ = false;
  bool finished_ = false;  // the connection is over: the writer stops at once
  bool first_message_seen_ = false;
  clock::time_point opened_at_;
  clock::time_point last_inbound_;
  clock::time_point next_ping_;
  // When the writer sends fresh TURN credentials: it wakes for that as it does for pings, so that
  // the refresh costs no timer of its own. max(): never (no TURN, or not registered).
  clock::time_point ice_refresh_at_ = clock::time_point::max();
  token_bucket rate_;
  domain::id user_id_ = 0;
  std::optional<runtime::keyed_slots::slot> user_slot_;  // one of the user's WebSockets, while it lives
  // A single process: where the registration may land, read with the token check, with the hub
  // epoch taken before that read; until the registration uses it.
  struct read_ahead {
    domain::epoch ticket = 0;
    store::registration_candidates candidates;
  };
  std::unique_ptr<read_ahead> read_ahead_;
  std::optional<signaling::peer_info> registered_;
  presence_lease presence_;  // the only way this session takes its registration offline
  std::optional<runtime::connection_registry::entry> registration_;
  // For the access log line.
  http::request_origin origin_;
  clock::time_point created_at_ = clock::now();
  unsigned handshake_status_ = 0;  // of the answer to the upgrade; 101 once accepted
  std::uint64_t bytes_in_ = 0;     // message payloads
  std::uint64_t bytes_out_ = 0;    // frames of messages
  std::uint64_t messages_in_ = 0;
  std::uint64_t messages_out_ = 0;
};

}  // namespace sig::ws
