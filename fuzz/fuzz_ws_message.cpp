// Fuzz target for an agent's WebSocket session after registration: real sessions (src/ws, the
// template instantiated for boost::beast::test::stream by the tests' session driver,
// tests/support/ws_session_driver.hpp) on the hub and a SQLite store, without sockets. Two agents
// of one user are registered: A receives the fuzzed input, B (another device, 10.20.0.2, peer id
// "fuzz-b") is there so that signals and updates reach a second session. A session the input
// closed is registered again for the next input.
//
// Byte 0 of the input chooses how the rest reaches A, in pieces separated by NUL bytes (which
// never occur in JSON text), at most 16 of them:
//   0: each piece is a text message (the protocol's JSON messages);
//   1: each piece is a frame whose first byte gives the opcode (low 4 bits) and FIN (bit 7), the
//      rest its payload (control frames, fragments, close codes);
//   2: the rest is raw bytes from the client (frame headers, masking, lengths).
// After each input the io_context runs until idle (after registration a session touches no
// database, so nothing is left on the worker). Every text frame the server sends to A or B must
// be a JSON object, and B's session must survive whatever A was sent.
#include "core/json_parse.hpp"
#include "fuzz_check.hpp"
#include "ws_session_driver.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;
using ws_testing::session_world;
using ws_testing::test_member;

constexpr int max_pieces = 16;

// No deadline may fire during a run (they would end sessions at random moments, and findings
// would not replay), and no rate limit may refuse the fuzzer's burst of messages.
sig::ws::ws_options fuzz_options() {
  sig::ws::ws_options options;
  options.register_timeout = 24h;
  options.ping_interval = 24h;
  options.idle_timeout = 24h;
  options.rate_per_second = 1e9;
  options.rate_burst = 1e9;
  return options;
}

/// Runs what is ready until nothing is.
void run_until_idle(session_world& world) {
  do {
    if (world.io.stopped()) world.io.restart();
  } while (world.io.poll() > 0);
}

/// The frames the server sent (unmasked, RFC 6455 §5.2): each text frame must be a JSON object.
/// Returns false once a close frame was seen.
bool check_server_frames(std::string_view bytes) {
  bool open = true;
  while (!bytes.empty()) {
    FUZZ_CHECK(bytes.size() >= 2, "truncated frame header");
    const auto opcode = static_cast<std::uint8_t>(bytes[0]) & 0x0F;
    std::uint64_t length = static_cast<std::uint8_t>(bytes[1]) & 0x7F;
    FUZZ_CHECK((static_cast<std::uint8_t>(bytes[1]) & 0x80) == 0, "masked server frame");
    std::size_t header = 2;
    const std::size_t extended = length == 126 ? 2 : length == 127 ? 8 : 0;
    FUZZ_CHECK(bytes.size() >= header + extended, "truncated frame length");
    if (extended > 0) {
      length = 0;
      for (std::size_t i = 0; i < extended; ++i) length = (length << 8) | static_cast<std::uint8_t>(bytes[header + i]);
      header += extended;
    }
    FUZZ_CHECK(bytes.size() - header >= length, "truncated frame payload");
    const std::string_view payload = bytes.substr(header, static_cast<std::size_t>(length));
    if (opcode == ws_testing::opcode_text) {
      const auto message = sig::parse_json(payload);
      FUZZ_CHECK(message && message->is_object(), payload);
    }
    if (opcode == ws_testing::opcode_close) open = false;
    bytes.remove_prefix(header + payload.size());
  }
  return open;
}

// One registered session and the client's end of its stream.
class agent {
 public:
  agent(session_world& world, const test_member& member, std::string_view agent_id)
      : world_(world), client_(world.io), state_(std::make_shared<session_state>()) {
    beast::test::stream server(world.io);
    server.connect(client_);
    asio::co_spawn(
        world.io,
        sig::ws::run_test_session(std::move(server), ws_testing::upgrade_request(member.token), world.context),
        [state = state_](const std::exception_ptr& failure) {
          state->ended = true;
          if (failure) std::rethrow_exception(failure);  // escapes io.poll(): a finding
        });
    run_until_idle(world);
    FUZZ_CHECK(client_.str().starts_with("HTTP/1.1 101"), std::string(client_.str()));
    client_.clear();

    boost::json::object registration{{"type", "register"}, {"public_ip", "203.0.113.7"}, {"public_port", 41641}};
    if (!agent_id.empty()) registration["agent_id"] = agent_id;
    send(ws_testing::client_frame(ws_testing::opcode_text, boost::json::serialize(registration)));
    // The registration is looked up on the database worker: wait for its answer.
    world.run_until(
        [&] { return state_->ended || client_.str().find("register_agent_response") != std::string::npos; });
    FUZZ_CHECK(!state_->ended && check_server_frames(client_.str()), std::string(client_.str()));
    client_.clear();
  }

  agent(const agent&) = delete;
  agent& operator=(const agent&) = delete;

  ~agent() {
    client_.close();
    run_until_idle(world_);
  }

  bool usable() const { return open_ && !state_->ended; }

  void send(std::string_view bytes) {
    beast::error_code ignored;  // a session that ended has closed its end: nothing to check
    asio::write(client_, asio::buffer(bytes.data(), bytes.size()), ignored);
  }

  /// Checks and discards what the server sent; a close from the server ends this agent (the
  /// client drops the connection rather than waiting for the closing handshake's timer).
  void receive() {
    open_ = check_server_frames(client_.str()) && open_;
    client_.clear();
    if (!open_) client_.close();
  }

 private:
  struct session_state {
    bool ended = false;
  };
  session_world& world_;
  beast::test::stream client_;
  std::shared_ptr<session_state> state_;
  bool open_ = true;
};

struct fuzz_world {
  session_world world{fuzz_options()};
  test_member member = world.add_member("agent@fuzz.example", "10.20.0.0/24");
  std::string second_device = world.add_device(member, "fuzz-b");
  std::unique_ptr<agent> a;  // declared after the world: they end before it
  std::unique_ptr<agent> b;

  agent& registered_a() {
    if (!a || !a->usable()) {
      a.reset();
      a = std::make_unique<agent>(world, member, "");
    }
    if (!b || !b->usable()) {
      b.reset();
      b = std::make_unique<agent>(world, member, "fuzz-b");
    }
    return *a;
  }
};

fuzz_world& state() {
  static fuzz_world instance;
  return instance;
}

void send_pieces(agent& target, std::string_view rest, bool as_frames) {
  for (int piece = 0; piece < max_pieces; ++piece) {
    const std::size_t end = rest.find('\0');
    std::string_view text = rest.substr(0, end);
    if (as_frames) {
      if (text.empty()) continue;
      const auto header = static_cast<std::uint8_t>(text.front());
      text.remove_prefix(1);
      target.send(ws_testing::client_frame(header & 0x0F, text, (header & 0x80) != 0));
    } else {
      target.send(ws_testing::client_frame(ws_testing::opcode_text, text));
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) std::abort();
  spdlog::set_level(spdlog::level::off);  // sessions log every refusal and close
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  fuzz_world& fuzz = state();
  agent& target = fuzz.registered_a();
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: send_pieces(target, rest, false); break;
    case 1: send_pieces(target, rest, true); break;
    case 2: target.send(rest); break;
  }
  run_until_idle(fuzz.world);
  fuzz.a->receive();
  fuzz.b->receive();
  // Nothing A sends may end B: B holds its own address, which A's registration never takes.
  FUZZ_CHECK(fuzz.b->usable(), "the input to A ended B's session");
  run_until_idle(fuzz.world);
  return 0;
}
