// Drives one agent's WebSocket session (src/ws/ws_session.ipp) without sockets, for the session
// tests and for fuzzing the message handling after registration.
//
// - session_world: what a server process gives its sessions (ws_context): a SQLite store in a
//   temporary directory, the token codec, a hub over a presence_bus the test chooses (a bus that
//   throws is the honest way to make hub::join or hub::update throw), one database worker, and an
//   io_context that the test thread runs (no other I/O thread).
// - session_client: one session over boost::beast::test::stream, started the way http_session
//   hands an upgrade over (the request already parsed), and the client's end of that stream, which
//   speaks raw RFC 6455 frames (masked, as a client must), so that a test can also send what a
//   well-behaved client library would refuse to (a close code of 5000, say).
//
// The session template is instantiated for beast::test::stream in ws_session_test_stream.cpp (the
// library sig_ws_session_driver, tests/unit/CMakeLists.txt): link it rather than including
// ws_session.ipp again. Everything runs on the calling thread but the store lookups (the worker);
// a session_client's calls run the io_context until what they wait for happens, or a deadline.
#pragma once

#include "api/services.hpp"
#include "auth/jwt.hpp"
#include "auth/password_hasher.hpp"
#include "http/beast.hpp"
#include "runtime/connection_registry.hpp"
#include "runtime/worker_pool.hpp"
#include "signaling/hub.hpp"
#include "store/store.hpp"
#include "telemetry/metrics.hpp"
#include "ws/ws_context.hpp"
#include "ws/ws_options.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sig::ws {
/// Instantiated in ws_session_test_stream.cpp.
boost::asio::awaitable<void> run_test_session(boost::beast::test::stream stream, http::request upgrade,
                                              ws_context& context);
}  // namespace sig::ws

namespace ws_testing {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;

// -- frames ---------------------------------------------------------------------------------------

inline constexpr std::uint8_t opcode_continuation = 0x0;
inline constexpr std::uint8_t opcode_text = 0x1;
inline constexpr std::uint8_t opcode_binary = 0x2;
inline constexpr std::uint8_t opcode_close = 0x8;
inline constexpr std::uint8_t opcode_ping = 0x9;
inline constexpr std::uint8_t opcode_pong = 0xA;

/// One client-to-server frame, masked with a fixed key (tests want reproducible bytes).
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true);
/// The payload of a close frame: the code (big-endian) and the reason.
std::string close_payload(std::uint16_t code, std::string_view reason = {});

/// A frame from the server (unmasked).
struct server_frame {
  std::uint8_t opcode = 0;
  bool fin = true;
  std::string payload;

  bool is_text() const { return opcode == opcode_text; }
  bool is_close() const { return opcode == opcode_close; }
  /// Close frames: the code, or 1005 when the frame carries none.
  std::uint16_t close_code() const;
  /// Text frames: the JSON object (throws if it is not one).
  json::object json() const;
};

// -- the server's side ----------------------------------------------------------------------------

/// A bus that records what the hub publishes and, when `fail` says so, throws instead (once per
/// armed predicate), as a cluster bus could when it cannot queue an event.
class scripted_bus final : public sig::signaling::presence_bus {
 public:
  using predicate = std::function<bool(const sig::signaling::presence_event&)>;
  void publish(const sig::signaling::presence_event& event) override;
  /// The next event that matches throws std::runtime_error (and disarms the predicate).
  void fail_once(predicate matches);
  std::vector<sig::signaling::presence_event> events() const;

 private:
  mutable std::mutex mutex_;
  predicate fail_;
  std::vector<sig::signaling::presence_event> events_;
};

/// An agent account with an organization it owns and an address in it.
struct test_member {
  sig::domain::id user_id = 0;
  std::string email;
  std::string token;
  sig::domain::id organization_id = 0;
  std::string virtual_ip;
};

/// Short deadlines, so that timeouts are tested in milliseconds.
sig::ws::ws_options fast_options();

class session_world {
 public:
  explicit session_world(sig::ws::ws_options options = fast_options());
  session_world(const session_world&) = delete;
  session_world& operator=(const session_world&) = delete;
  ~session_world();

  /// A user (registered and logged in through the service layer) with an organization of its own
  /// and an allocation there.
  test_member add_member(const std::string& email, const std::string& subnet = "10.20.0.0/24");
  /// Another address of `member`, for an agent_id (a second device).
  std::string add_device(const test_member& member, const std::string& agent_id);

  /// Runs the io_context until `done()` or `limit`; true if done.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 2s);
  /// Runs whatever is ready for `duration`.
  void run_for(std::chrono::milliseconds duration);

  // Declared in the order of their dependencies. The worker is joined first; then the io_context
  // goes, destroying unfinished sessions, whose registrations leave the hub, which outlives it.
  scripted_bus bus;
  sig::signaling::hub hub{bus};
  const sig::ws::ws_options options;

 private:
  std::filesystem::path directory_;
  std::unique_ptr<sig::store::store> db_;
  sig::auth::password_hasher hasher_;
  sig::auth::jwt_codec tokens_;
  sig::telemetry::metrics metrics_;
  sig::api::api_services services_;
  sig::runtime::connection_registry connections_;

 public:
  sig::ws::ws_context context;
  asio::io_context io;

 private:
  sig::runtime::worker_pool database_pool_;
};

// -- one session and its client -----------------------------------------------------------------

/// The upgrade request http_session would hand over: GET /ws, with `token` in the query unless
/// empty.
sig::http::request upgrade_request(std::string_view token);

class session_client {
 public:
  /// Starts the session on `upgrade` (it answers the handshake at once). A `server_write_size`
  /// makes each of the session's writes take that many bytes per step, as a slow link would, so
  /// that other work interleaves with a long write.
  session_client(session_world& world, sig::http::request upgrade, std::size_t server_write_size = 0);
  session_client(const session_client&) = delete;
  session_client& operator=(const session_client&) = delete;
  ~session_client();

  /// The session's answer to the upgrade (101, or a refusal).
  beast::http::response<beast::http::string_body> handshake_response();
  /// Upgrades (expecting 101).
  void open();

  void send_raw(std::string_view bytes);
  void send_text(std::string_view text) { send_raw(client_frame(opcode_text, text)); }
  void send_json(const json::object& message);
  /// {"type": "register", "public_ip": "203.0.113.7", "public_port": 41641} plus `extra`.
  void send_register(const json::object& extra = {});

  /// The next frame from the server, skipping pings (answered with pongs); nullopt when none
  /// arrives by `limit` or the server's end is closed.
  std::optional<server_frame> next_frame(std::chrono::milliseconds limit = 2s);
  /// The next text message as JSON (fails the test when something else arrives).
  json::object next_message(std::chrono::milliseconds limit = 2s);
  /// Reads frames until a close; its code (nullopt: none arrived).
  std::optional<std::uint16_t> close_code(std::chrono::milliseconds limit = 2s);

  /// Opens, registers and returns the register_agent_response.
  json::object register_member(const test_member& member, const json::object& extra = {});

  /// The client answers the server's close (or starts one) and closes its end of the stream.
  void close_transport();
  /// The session's coroutine is over, and how it ended.
  bool session_ended() const { return state_->ended; }
  bool wait_session_end(std::chrono::milliseconds limit = 2s);
  std::exception_ptr session_failure() const { return state_->failure; }
  /// The server's end closed the stream (EOF seen by the client).
  bool transport_closed() const { return reading_->eof; }

 private:
  struct shared_state {
    bool ended = false;
    std::exception_ptr failure;
  };
  struct read_state {
    std::array<char, 4096> chunk{};
    bool pending = false;
    bool eof = false;
    std::string inbox;  // bytes received and not parsed yet
  };
  bool read_more(std::chrono::milliseconds limit);
  std::optional<server_frame> take_frame();

  session_world& world_;
  beast::test::stream client_;
  std::shared_ptr<shared_state> state_ = std::make_shared<shared_state>();
  std::shared_ptr<read_state> reading_ = std::make_shared<read_state>();
};

}  // namespace ws_testing
