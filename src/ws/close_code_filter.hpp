// The transport under the WebSocket stream, narrowing the close codes Beast accepts from a client
// to those of RFC 6455 §7.4.
//
// Beast (1.81, websocket/detail/frame.hpp is_valid_close_code) accepts every code from 3000 up,
// 5000 to 65535 included, and echoes it; the RFC leaves those undefined, and a client sending one
// must have its connection failed with 1002. Beast gives no hook between reading a close frame and
// echoing it (sending our own close from the control callback is undefined behaviour, its
// documentation says), so this layer reads the client's frames as they pass: in a close frame whose
// code is 5000 or more, it replaces the code by 1004, which Beast refuses like 1005, 1006 or 2999:
// it fails the connection with close 1002 and reports websocket::error::bad_close_code. Every
// other byte passes through unchanged; writes are not touched.
#pragma once

#include "ws/transport_layer.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace sig::ws {

/// Follows the frames of the client-to-server direction, byte by byte across reads, and rewrites
/// the code of a close frame that RFC 6455 does not allow but Beast does. Pure: tested on bytes.
class close_code_scanner {
 public:
  /// Scans the `size` bytes just read (rewriting in place); returns how many of them may be
  /// handed on now. The rest (at most one byte: the first half of a close code) must be offered
  /// again, followed by the next bytes read.
  std::size_t scan(unsigned char* data, std::size_t size) noexcept {
    std::size_t at = 0;
    while (at < size) {
      if (payload_left_ == 0 && !in_header_) start_header();
      if (in_header_) {
        header_[header_size_++] = data[at++];
        if (header_size_ == header_needed()) end_header();
        continue;
      }
      if (close_code_pending()) {
        if (size - at < 2) return at;  // the code is split between two reads: wait for its second byte
        check_close_code(data + at);
      }
      const auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, size - at));
      at += skip;
      payload_left_ -= skip;
      payload_seen_ += skip;
    }
    return at;
  }

 private:
  static constexpr std::uint8_t opcode_close = 0x8;
  static constexpr std::uint16_t first_undefined_code = 5000;
  // A code Beast refuses itself, so that it fails the connection the way it does for every other
  // invalid code.
  static constexpr std::uint16_t refused_code = 1004;

  void start_header() noexcept {
    in_header_ = true;
    header_size_ = 0;
  }

  std::size_t header_needed() const noexcept {
    if (header_size_ < 2) return 2;
    const unsigned length7 = header_[1] & 0x7fu;
    const std::size_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
    const std::size_t mask = (header_[1] & 0x80u) != 0 ? 4 : 0;
    return 2 + extended + mask;
  }

  void end_header() noexcept {
    in_header_ = false;
    const unsigned length7 = header_[1] & 0x7fu;
    std::size_t at = 2;
    std::uint64_t length = length7;
    if (length7 == 126 || length7 == 127) {
      const std::size_t bytes = length7 == 126 ? 2 : 8;
      length = 0;
      for (std::size_t i = 0; i < bytes; ++i) length = (length << 8) | header_[at++];
    }
    masked_ = (header_[1] & 0x80u) != 0;
    if (masked_)
      for (std::size_t i = 0; i < 4; ++i) mask_[i] = header_[at++];
    close_frame_ = (header_[0] & 0x0fu) == opcode_close;
    payload_left_ = length;
    payload_seen_ = 0;
  }

  // A close frame's code: its first two payload bytes (a control frame carries at most 125).
  bool close_code_pending() const noexcept {
    const std::uint64_t length = payload_left_ + payload_seen_;
    return close_frame_ && payload_seen_ == 0 && length >= 2 && length <= 125;
  }

  void check_close_code(unsigned char* code) const noexcept {
    const auto unmask = [&](std::size_t i) { return static_cast<unsigned>(code[i] ^ (masked_ ? mask_[i] : 0)); };
    const unsigned value = (unmask(0) << 8) | unmask(1);
    if (value < first_undefined_code) return;
    code[0] = static_cast<unsigned char>((refused_code >> 8) ^ (masked_ ? mask_[0] : 0));
    code[1] = static_cast<unsigned char>((refused_code & 0xffu) ^ (masked_ ? mask_[1] : 0));
  }

  std::array<unsigned char, 14> header_{};
  std::size_t header_size_ = 0;
  bool in_header_ = false;
  bool masked_ = false;
  bool close_frame_ = false;
  std::array<unsigned char, 4> mask_{};
  std::uint64_t payload_left_ = 0;
  std::uint64_t payload_seen_ = 0;
};

/// An AsyncStream over `Stream` (beast::tcp_stream, the TLS stream, beast::test::stream) whose reads
/// go through a close_code_scanner.
template <class Stream>
class close_code_filter {
 public:
  using executor_type = typename Stream::executor_type;
  using next_layer_type = Stream;

  explicit close_code_filter(Stream stream) : next_(std::move(stream)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Stream& next_layer() noexcept { return next_; }
  const Stream& next_layer() const noexcept { return next_; }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, std::size_t)>(
        read_op<MutableBuffers>{*this, buffers}, handler, next_);
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return next_.async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  // One read of the next layer into the first buffer, after the byte held back last time.
  template <class MutableBuffers>
  struct read_op {
    close_code_filter& filter;
    MutableBuffers buffers;
    boost::asio::mutable_buffer into{};
    std::size_t held_now = 0;  // the byte held back last time, now first in `into`
    bool started = false;

    template <class Self>
    void operator()(Self& self, boost::beast::error_code ec = {}, std::size_t read = 0) {
      if (!started) {
        started = true;
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
             ++it) {
          const boost::asio::mutable_buffer buffer = *it;
          if (buffer.size() == 0) continue;
          into = buffer;
          break;
        }
        if (filter.held_ && into.size() > 0) {
          *static_cast<unsigned char*>(into.data()) = *std::exchange(filter.held_, std::nullopt);
          held_now = 1;
        }
        return filter.next_.async_read_some(into + held_now, std::move(self));
      }
      auto* data = static_cast<unsigned char*>(into.data());
      const std::size_t available = held_now + read;
      const std::size_t passed = filter.scanner_.scan(data, available);
      if (passed < available) filter.held_ = data[passed];  // at most one byte (see scan)
      self.complete(ec, passed);
    }
  };

  Stream next_;
  close_code_scanner scanner_;
  std::optional<unsigned char> held_;
};

template <class Stream>
struct is_transport_layer<close_code_filter<Stream>> : std::true_type {};

}  // namespace sig::ws
