// The pure parts of the WebSocket layer: close_code_scanner on bytes (RFC 6455 §7.4 narrowing of
// what Beast accepts) and the handshake refusals.
#include "ws/close_code_filter.hpp"
#include "ws/handshake.hpp"
#include "ws_session_driver.hpp"

#include <gtest/gtest.h>

namespace {

using namespace ws_testing;
namespace bhttp = boost::beast::http;

std::uint16_t code_after_scan(std::string frame, std::size_t chunk) {
  sig::ws::close_code_scanner scanner;
  std::string passed;
  std::string pending;
  for (std::size_t at = 0; at < frame.size(); at += chunk) {
    std::string read = pending + frame.substr(at, chunk);
    const std::size_t n = scanner.scan(reinterpret_cast<unsigned char*>(read.data()), read.size());
    passed += read.substr(0, n);
    pending = read.substr(n);
  }
  passed += pending;
  // Unmask the code (the driver's fixed mask; the header of a short close frame is 6 bytes).
  const auto* bytes = reinterpret_cast<const unsigned char*>(passed.data());
  return static_cast<std::uint16_t>(((bytes[6] ^ bytes[2]) << 8) | (bytes[7] ^ bytes[3]));
}

TEST(close_code_scanner, replaces_codes_from_5000_by_one_beast_refuses) {
  for (const std::size_t chunk : {1, 2, 3, 7, 100}) {
    EXPECT_EQ(code_after_scan(client_frame(opcode_close, close_payload(5000)), chunk), 1004) << chunk;
    EXPECT_EQ(code_after_scan(client_frame(opcode_close, close_payload(65535, "x")), chunk), 1004) << chunk;
  }
}

TEST(close_code_scanner, leaves_other_codes_alone) {
  for (const std::uint16_t code : {1000, 1002, 1005, 2999, 3000, 4999})
    EXPECT_EQ(code_after_scan(client_frame(opcode_close, close_payload(code)), 1), code) << code;
}

TEST(close_code_scanner, follows_frames_of_every_length) {
  sig::ws::close_code_scanner scanner;
  std::string stream = client_frame(opcode_binary, std::string(70000, '\x88')) +
                       client_frame(opcode_text, std::string(300, 'a')) + client_frame(opcode_ping, "") +
                       client_frame(opcode_close, close_payload(5000));
  const std::string original = stream;
  EXPECT_EQ(scanner.scan(reinterpret_cast<unsigned char*>(stream.data()), stream.size()), stream.size());
  // Only the last two payload bytes (the close code) changed.
  EXPECT_EQ(stream.substr(0, stream.size() - 2), original.substr(0, original.size() - 2));
  EXPECT_NE(stream.substr(stream.size() - 2), original.substr(original.size() - 2));
}

TEST(close_code_scanner, holds_back_only_a_split_close_code) {
  sig::ws::close_code_scanner scanner;
  std::string frame = client_frame(opcode_close, close_payload(5000));
  // Header (6 bytes) and the first byte of the code: the code's first byte is held back.
  EXPECT_EQ(scanner.scan(reinterpret_cast<unsigned char*>(frame.data()), 7), 6u);
}

TEST(handshake_refusal, accepts_a_well_formed_upgrade) {
  EXPECT_FALSE(sig::ws::handshake_refusal(upgrade_request("t")).has_value());
}

TEST(handshake_refusal, answers_json_details) {
  auto upgrade = upgrade_request("t");
  upgrade.set(bhttp::field::sec_websocket_key, "short");
  const auto refusal = sig::ws::handshake_refusal(upgrade);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->result(), bhttp::status::bad_request);
  EXPECT_EQ(refusal->body(), R"({"detail":"Invalid Sec-WebSocket-Key header"})");
  EXPECT_EQ((*refusal)[bhttp::field::content_type], "application/json");
}

}  // namespace
