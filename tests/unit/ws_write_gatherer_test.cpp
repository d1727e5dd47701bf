// The layer under the WebSocket stream that gathers writes (ws/write_gatherer.hpp): the frames it
// is given are well formed, every write reaches the peer whole and in the order it was made, what
// queues up during a write goes out in one write, and each write completes with its own size.
#include "ws/write_gatherer.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using sig::ws::append_text_frame;
using sig::ws::write_gatherer;

// The payload length a frame header declares, and the header's size (RFC 6455 §5.2).
std::pair<std::uint64_t, std::size_t> declared_length(const std::string& frame) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(frame[i])); };
  const std::uint64_t length7 = byte(1) & 0x7f;
  if (length7 < 126) return {length7, 2};
  if (length7 == 126) return {(byte(2) << 8) | byte(3), 4};
  std::uint64_t length = 0;
  for (std::size_t i = 0; i < 8; ++i) length = (length << 8) | byte(2 + i);
  return {length, 10};
}

TEST(append_text_frame, writes_a_final_unmasked_text_frame_of_every_length_class) {
  for (const std::size_t size : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    std::string frame;
    const std::string payload(size, 'x');
    append_text_frame(frame, payload);
    EXPECT_EQ(static_cast<unsigned char>(frame[0]), 0x81) << size;      // FIN, text
    EXPECT_EQ(static_cast<unsigned char>(frame[1]) & 0x80, 0) << size;  // not masked
    const auto [length, header] = declared_length(frame);
    EXPECT_EQ(length, size);
    EXPECT_EQ(header, size < 126 ? 2u : size <= 65535 ? 4u : 10u) << size;
    EXPECT_EQ(frame.substr(header), payload) << size;
  }
}

TEST(append_text_frame, appends_after_what_is_there) {
  std::string frames;
  append_text_frame(frames, "a");
  append_text_frame(frames, "bc");
  EXPECT_EQ(frames, std::string("\x81\x01"
                                "a\x81\x02"
                                "bc",
                                7));
}

struct completed {
  std::string what;
  beast::error_code ec;
  std::size_t bytes;
};

TEST(write_gatherer, writes_arrive_whole_in_order_and_what_queued_meanwhile_goes_in_one_write) {
  asio::io_context io;
  beast::test::stream remote(io);
  write_gatherer<beast::test::stream> gatherer(io);
  gatherer.next_layer().connect(remote);
  std::vector<completed> done;
  const auto record = [&done](std::string what) {
    return [&done, what](beast::error_code ec, std::size_t bytes) { done.push_back({what, ec, bytes}); };
  };

  // As Beast writes a ping: two buffers of one frame.
  const std::string ping_header = "\x89\x00";
  const std::string none;
  const std::array<asio::const_buffer, 2> ping{asio::buffer(ping_header), asio::buffer(none)};
  gatherer.async_write_some(ping, record("ping"));
  // Queued while the ping is being written: they go out together.
  const std::string first = "first-frames";
  const std::string second = "second-frames";
  const std::string pong = "\x8a\x00";
  gatherer.async_send_frames(asio::buffer(first), record("first"));
  gatherer.async_write_some(asio::buffer(pong), record("pong"));
  gatherer.async_send_frames(asio::buffer(second), record("second"));
  EXPECT_TRUE(done.empty());  // nothing completes before it is written
  io.run();

  EXPECT_EQ(remote.str(), ping_header + first + pong + second);
  ASSERT_EQ(done.size(), 4u);
  EXPECT_EQ(done[0].what, "ping");
  EXPECT_EQ(done[0].bytes, ping_header.size());
  EXPECT_EQ(done[1].what, "first");
  EXPECT_EQ(done[1].bytes, first.size());
  EXPECT_EQ(done[2].what, "pong");
  EXPECT_EQ(done[3].what, "second");
  EXPECT_EQ(done[3].bytes, second.size());
  for (const auto& d : done) EXPECT_FALSE(d.ec) << d.what;
  EXPECT_EQ(gatherer.next_layer().nwrite(), 2u);  // the ping, then the three queued behind it
}

TEST(write_gatherer, a_failed_write_fails_every_write_it_carried) {
  asio::io_context io;
  beast::test::fail_count fails_at_once(0);  // the first write fails, as on a reset connection
  beast::test::stream remote(io);
  write_gatherer<beast::test::stream> gatherer(io, fails_at_once);
  gatherer.next_layer().connect(remote);
  std::vector<completed> done;
  const std::string a = "a", b = "b";
  gatherer.async_send_frames(asio::buffer(a), [&](beast::error_code ec, std::size_t n) {
    done.push_back({"a", ec, n});
  });
  gatherer.async_send_frames(asio::buffer(b), [&](beast::error_code ec, std::size_t n) {
    done.push_back({"b", ec, n});
  });
  io.run();
  ASSERT_EQ(done.size(), 2u);
  for (const auto& d : done) {
    EXPECT_TRUE(d.ec) << d.what;
    EXPECT_EQ(d.bytes, 0u) << d.what;
  }
  EXPECT_EQ(remote.str(), "");
}

}  // namespace
