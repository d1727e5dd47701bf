// The transport right under the WebSocket stream, gathering every write into as few system calls
// as it can.
//
// Beast writes one frame per operation and lets a second write wait for the first: a join in an
// organization of 1,000 sends each member hundreds of small frames, one `sendmsg` each. Here the
// session's writer encodes what is queued for its peer as complete frames and sends them in one
// gathered write (async_send_frames), and Beast's own writes (pings, pongs, the close frame) take their
// turn in the same line, so that the bytes on the wire stay whole frames in the order they were
// written. Every write completes, as Beast expects, once its bytes are written (or the write failed).
#pragma once

#include "ws/transport_layer.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sig::ws {

/// Appends to `out` one unmasked server-to-client text frame with FIN set (RFC 6455 §5.2) that
/// carries `payload`.
inline void append_text_frame(std::string& out, std::string_view payload) {
  const std::size_t size = payload.size();
  out.push_back(static_cast<char>(0x81));  // FIN, opcode 1 (text)
  if (size < 126) {
    out.push_back(static_cast<char>(size));
  } else if (size <= 0xffff) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size & 0xff));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(size) >> shift) & 0xff));
  }
  out.append(payload);
}

/// An AsyncStream over `Stream` whose writes are queued and written together; see above. Not
/// thread-safe: used on the session's strand, like the stream it wraps.
template <class Stream>
class write_gatherer {
 public:
  using executor_type = typename Stream::executor_type;
  using next_layer_type = Stream;

  template <class... Args>
  explicit write_gatherer(Args&&... args) : next_(std::forward<Args>(args)...) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Stream& next_layer() noexcept { return next_; }
  const Stream& next_layer() const noexcept { return next_; }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return next_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  /// Beast's writes: one frame (or part of one) each; the buffers stay valid until completion.
  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(boost::beast::error_code, std::size_t)>(
        [this](auto completion, const ConstBuffers& to_write) {
          write entry{{}, std::move(completion), 0};
          for (auto it = boost::asio::buffer_sequence_begin(to_write); it != boost::asio::buffer_sequence_end(to_write);
               ++it) {
            const boost::asio::const_buffer buffer = *it;
            entry.buffers.push_back(buffer);
            entry.bytes += buffer.size();
          }
          queue(std::move(entry));
        },
        handler, buffers);
  }

  /// Whole frames encoded by the caller (see append_text_frame), written together; `frames` stays
  /// valid until completion.
  template <class Handler>
  auto async_send_frames(boost::asio::const_buffer frames, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(boost::beast::error_code, std::size_t)>(
        [this](auto completion, boost::asio::const_buffer bytes) {
          queue(write{{bytes}, std::move(completion), bytes.size()});
        },
        handler, frames);
  }

 private:
  using any_handler = boost::asio::any_completion_handler<void(boost::beast::error_code, std::size_t)>;
  struct write {
    std::vector<boost::asio::const_buffer> buffers;
    any_handler handler;
    std::size_t bytes = 0;
  };

  void queue(write entry) {
    waiting_.push_back(std::move(entry));
    flush();
  }

  // One gathered write of everything waiting; what is queued meanwhile goes in the next one.
  void flush() {
    if (writing_ || waiting_.empty()) return;
    writing_ = true;
    in_flight_.swap(waiting_);
    gathered_.clear();
    for (const write& entry : in_flight_) gathered_.insert(gathered_.end(), entry.buffers.begin(), entry.buffers.end());
    boost::asio::async_write(next_, gathered_, [this](const boost::beast::error_code& ec, std::size_t) {
      // The handlers run after this returns (posted): the last of them may end the session that
      // owns this object. Every writer of this stream (Beast's operations, the session's writer)
      // runs on the stream's executor, the session's strand.
      for (write& entry : in_flight_) {
        boost::asio::post(next_.get_executor(),
                          [handler = std::move(entry.handler), ec, bytes = ec ? 0 : entry.bytes]() mutable {
                            std::move(handler)(ec, bytes);
                          });
      }
      in_flight_.clear();
      writing_ = false;
      flush();
    });
  }

  Stream next_;
  std::vector<write> waiting_;
  std::vector<write> in_flight_;
  std::vector<boost::asio::const_buffer> gathered_;
  bool writing_ = false;
};

template <class Stream>
struct is_transport_layer<write_gatherer<Stream>> : std::true_type {};

}  // namespace sig::ws
