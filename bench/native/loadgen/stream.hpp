// A non-blocking TCP connection driven by readiness: the base of the generator's HTTP and
// WebSocket clients.
//
// The generator holds up to ~20,000 sockets on one thread. Instead of one read buffer per socket
// (asio's async_read_some), a socket waits for readiness and then reads into one shared scratch
// buffer; only the bytes of an incomplete message are copied into the connection. Writes go out
// at once and only what the kernel did not take is queued.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using boost::system::error_code;

class stream {
 public:
  explicit stream(asio::io_context& io) : sock_(io) {}
  virtual ~stream() = default;
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  // Connects to `to`; from a given loopback source address when `from` is not null.
  void connect(const tcp::endpoint& to, const asio::ip::address_v4* from);
  // Sends now what the kernel takes, queues the rest.
  void send(std::string_view bytes);
  // Closes the socket; no callback follows.
  void close();
  bool is_open() const { return open_; }

 protected:
  virtual void on_connected(const error_code& ec) = 0;
  // Bytes received (all not yet consumed); returns how many were consumed.
  virtual std::size_t on_data(char* data, std::size_t size, clock_type::time_point now) = 0;
  // The peer closed or the connection failed.
  virtual void on_closed(const error_code& ec) = 0;

 private:
  void arm_read();
  void on_readable();
  void arm_write();
  void on_writable();
  void fail(const error_code& ec);

  tcp::socket sock_;
  std::string in_;   // an incomplete message
  std::string out_;  // what the kernel did not take yet, from out_off_ on
  std::size_t out_off_ = 0;
  bool open_ = false;
  bool write_armed_ = false;
  unsigned generation_ = 0;  // handlers of an earlier socket of this object are ignored
};

}  // namespace loadgen
