// The socket-free session driver; see ws_session_driver.hpp.
#include "ws_session_driver.hpp"

#include "core/clock.hpp"
#include "domain/ipv4.hpp"
#include "service/accounts.hpp"
#include "service/organizations.hpp"
#include "signaling/messages.hpp"
#include "store/open_store.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <atomic>
#include <stdexcept>

namespace ws_testing {
namespace {

constexpr std::array<unsigned char, 4> test_mask{0x37, 0xfa, 0x21, 0x3d};

// Argon2id at its cheapest: the tests log in, they do not measure hashing.
sig::auth::password_cost cheap_cost() { return {.memory_kib = 8, .iterations = 1}; }

std::filesystem::path fresh_directory() {
  static std::atomic<unsigned> counter{0};
  const auto path = std::filesystem::temp_directory_path() /
                    ("ws-session-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(path);
  return path;
}

sig::telemetry::metrics make_metrics() {
  const auto names = [](const auto& list) { return std::vector<std::string>(list.begin(), list.end()); };
  return sig::telemetry::metrics({}, names(sig::signaling::inbound_kind_names),
                                 names(sig::signaling::outbound_kind_names));
}

}  // namespace

std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin) {
  std::string frame;
  frame.push_back(static_cast<char>((fin ? 0x80 : 0x00) | opcode));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xffff) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xff));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((payload.size() >> shift) & 0xff));
  }
  for (const unsigned char m : test_mask) frame.push_back(static_cast<char>(m));
  for (std::size_t i = 0; i < payload.size(); ++i)
    frame.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ test_mask[i % 4]));
  return frame;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xff));
  payload.append(reason);
  return payload;
}

std::uint16_t server_frame::close_code() const {
  if (payload.size() < 2) return 1005;
  return static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                    static_cast<unsigned char>(payload[1]));
}

json::object server_frame::json() const { return json::parse(payload).as_object(); }

void scripted_bus::publish(const sig::signaling::presence_event& event) {
  std::lock_guard lock(mutex_);
  if (fail_ && fail_(event)) {
    fail_ = nullptr;
    throw std::runtime_error("presence bus unavailable (scripted)");
  }
  events_.push_back(event);
}

void scripted_bus::fail_once(predicate matches) {
  std::lock_guard lock(mutex_);
  fail_ = std::move(matches);
}

std::vector<sig::signaling::presence_event> scripted_bus::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

sig::ws::ws_options fast_options() {
  sig::ws::ws_options options;
  options.register_timeout = 2s;
  options.ping_interval = 10s;
  options.idle_timeout = 10s;
  options.send_timeout = 2s;
  options.close_timeout = 500ms;
  return options;
}

session_world::session_world(sig::ws::ws_options ws_options)
    : options(ws_options),
      directory_(fresh_directory()),
      db_(sig::store::open_store({sig::store::backend::sqlite, (directory_ / "test.db").string()}, 2)),
      hasher_(cheap_cost()),
      tokens_(std::string(32, 'k'), std::chrono::minutes(30)),
      metrics_(make_metrics()),
      services_{*db_, hasher_, tokens_, hub, metrics_},
      context{options, hub, services_, database_pool_, connections_, metrics_, nullptr, nullptr},
      database_pool_(1, 64) {}

session_world::~session_world() {
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

test_member session_world::add_member(const std::string& email, const std::string& subnet) {
  const std::string password = "correct horse battery";
  const auto user = sig::service::register_user(*db_, hasher_, email, password);
  if (!user) throw std::runtime_error("register_user failed");
  const auto token = sig::service::login(*db_, hasher_, tokens_, email, password);
  if (!token) throw std::runtime_error("login failed");
  sig::service::organization_draft draft;
  draft.name = "org of " + email;
  draft.subnet = *sig::domain::parse_cidr(subnet);
  const auto organization = sig::service::create_organization(*db_, *user, draft);
  sig::store::allocation_request request;
  request.organization_id = organization.organization_id;
  request.user_id = user->user_id;
  request.now = sig::now_micros();
  const auto allocation = db_->allocate(request);
  if (!allocation) throw std::runtime_error("allocate failed");
  return {user->user_id, email, token->access_token, organization.organization_id,
          sig::domain::format_ipv4(allocation->address)};
}

std::string session_world::add_device(const test_member& member, const std::string& agent_id) {
  sig::store::allocation_request request;
  request.organization_id = member.organization_id;
  request.user_id = member.user_id;
  request.agent_id = agent_id;
  request.now = sig::now_micros();
  const auto allocation = db_->allocate(request);
  if (!allocation) throw std::runtime_error("allocate failed");
  return sig::domain::format_ipv4(allocation->address);
}

bool session_world::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(5ms);
  }
  return true;
}

void session_world::run_for(std::chrono::milliseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  run_until([&] { return std::chrono::steady_clock::now() >= deadline; }, duration + 1s);
}

sig::http::request upgrade_request(std::string_view token) {
  namespace bhttp = beast::http;
  sig::http::request req{bhttp::verb::get, token.empty() ? "/ws" : "/ws?token=" + std::string(token), 11};
  req.set(bhttp::field::host, "signaling.test");
  req.set(bhttp::field::upgrade, "websocket");
  req.set(bhttp::field::connection, "Upgrade");
  req.set(bhttp::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(bhttp::field::sec_websocket_version, "13");
  return req;
}

session_client::session_client(session_world& world, sig::http::request upgrade, std::size_t server_write_size)
    : world_(world), client_(world.io) {
  beast::test::stream server(world.io);
  server.connect(client_);
  if (server_write_size != 0) server.write_size(server_write_size);
  asio::co_spawn(world.io, sig::ws::run_test_session(std::move(server), std::move(upgrade), world.context),
                 [state = state_](std::exception_ptr failure) {
                   state->ended = true;
                   state->failure = failure;
                 });
}

session_client::~session_client() {
  client_.close();
  world_.run_for(10ms);  // let the session see the end of its transport
}

beast::http::response<beast::http::string_body> session_client::handshake_response() {
  beast::http::response_parser<beast::http::string_body> parser;
  parser.eager(true);
  beast::flat_buffer buffer;
  bool done = false;
  beast::error_code result;
  // The response has a body only when refused; a 101 ends with its header.
  beast::http::async_read_header(client_, buffer, parser, [&](beast::error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  EXPECT_TRUE(world_.run_until([&] { return done; })) << "no handshake response";
  if (!result && parser.get().result() != beast::http::status::switching_protocols && !parser.is_done()) {
    done = false;
    beast::http::async_read(client_, buffer, parser, [&](beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    EXPECT_TRUE(world_.run_until([&] { return done; })) << "no handshake response body";
  }
  EXPECT_FALSE(result) << result.message();
  const auto rest = buffer.cdata();
  reading_->inbox.append(static_cast<const char*>(rest.data()), rest.size());  // frames that came along
  return parser.release();
}

void session_client::open() {
  const auto response = handshake_response();
  ASSERT_EQ(response.result(), beast::http::status::switching_protocols) << response.body();
}

void session_client::send_raw(std::string_view bytes) {
  beast::error_code ec;
  asio::write(client_, asio::buffer(bytes.data(), bytes.size()), ec);
  EXPECT_FALSE(ec) << ec.message();
}

void session_client::send_json(const json::object& message) { send_text(json::serialize(message)); }

void session_client::send_register(const json::object& extra) {
  json::object message{{"type", "register"}, {"public_ip", "203.0.113.7"}, {"public_port", 41641}};
  for (const auto& field : extra) message[field.key()] = field.value();
  send_json(message);
}

// One read at a time stays pending across calls (a test stream read cannot be cancelled alone);
// its handler only touches the shared state, which outlives this object if need be.
bool session_client::read_more(std::chrono::milliseconds limit) {
  auto& reading = *reading_;
  if (reading.eof) return false;
  const std::size_t before = reading.inbox.size();
  if (!reading.pending) {
    reading.pending = true;
    client_.async_read_some(asio::buffer(reading.chunk), [state = reading_](beast::error_code ec, std::size_t n) {
      state->pending = false;
      state->inbox.append(state->chunk.data(), n);
      if (ec) state->eof = true;
    });
  }
  world_.run_until([&] { return !reading.pending; }, limit);
  return reading.inbox.size() > before;
}

std::optional<server_frame> session_client::take_frame() {
  const auto* bytes = reinterpret_cast<const unsigned char*>(reading_->inbox.data());
  if (reading_->inbox.size() < 2) return std::nullopt;
  std::size_t header = 2;
  std::uint64_t length = bytes[1] & 0x7f;
  if (length == 126) header += 2;
  if (length == 127) header += 8;
  if ((bytes[1] & 0x80) != 0) header += 4;  // a server must not mask; read it anyway
  if (reading_->inbox.size() < header) return std::nullopt;
  if (length >= 126) {
    length = 0;
    for (std::size_t i = 2; i < ((bytes[1] & 0x7f) == 126 ? 4u : 10u); ++i) length = (length << 8) | bytes[i];
  }
  if (reading_->inbox.size() < header + length) return std::nullopt;
  server_frame frame;
  frame.fin = (bytes[0] & 0x80) != 0;
  frame.opcode = bytes[0] & 0x0f;
  frame.payload = reading_->inbox.substr(header, length);
  reading_->inbox.erase(0, header + length);
  return frame;
}

std::optional<server_frame> session_client::next_frame(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    while (auto frame = take_frame()) {
      if (frame->opcode == opcode_ping) {
        send_raw(client_frame(opcode_pong, frame->payload));
        continue;
      }
      return frame;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms || !read_more(left)) {
      if (auto frame = take_frame()) return frame;
      return std::nullopt;
    }
  }
}

json::object session_client::next_message(std::chrono::milliseconds limit) {
  const auto frame = next_frame(limit);
  if (!frame) {
    ADD_FAILURE() << "no message from the server";
    return {};
  }
  if (!frame->is_text()) {
    ADD_FAILURE() << "expected a text message, got opcode " << int(frame->opcode)
                  << (frame->is_close() ? " (close " + std::to_string(frame->close_code()) + ")" : "");
    return {};
  }
  return frame->json();
}

std::optional<std::uint16_t> session_client::close_code(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const auto frame = next_frame(left);
    if (!frame) return std::nullopt;
    if (frame->is_close()) return frame->close_code();
  }
  return std::nullopt;
}

json::object session_client::register_member(const test_member& member, const json::object& extra) {
  (void)member;  // the token in the upgrade request names the member
  open();
  send_register(extra);
  return next_message();
}

void session_client::close_transport() { client_.close(); }

bool session_client::wait_session_end(std::chrono::milliseconds limit) {
  return world_.run_until([&] { return state_->ended; }, limit);
}

}  // namespace ws_testing
