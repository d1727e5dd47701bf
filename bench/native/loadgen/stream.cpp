#include "stream.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>

namespace loadgen {

namespace {

// One thread, so one buffer serves every socket's reads.
std::array<char, 256 * 1024> scratch;

}  // namespace

void stream::connect(const tcp::endpoint& to, const asio::ip::address_v4* from) {
  error_code ec;
  ++generation_;
  in_.clear();
  out_.clear();
  out_off_ = 0;
  write_armed_ = false;
  sock_.open(tcp::v4(), ec);
  if (!ec && from) {
    // Choose the port at connect time, per destination: with many sockets per source address the
    // 4-tuple, not the port alone, has to be unique.
    int one = 1;
    ::setsockopt(sock_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sock_.bind(tcp::endpoint(*from, 0), ec);
  }
  if (ec) {
    sock_.close();
    on_connected(ec);
    return;
  }
  sock_.async_connect(to, [this, gen = generation_](const error_code& ec) {
    if (gen != generation_) return;
    if (ec) {
      error_code ignored;
      sock_.close(ignored);
      on_connected(ec);
      return;
    }
    error_code ignored;
    sock_.non_blocking(true, ignored);
    sock_.set_option(tcp::no_delay(true), ignored);
    open_ = true;
    arm_read();
    on_connected(ec);
  });
}

void stream::send(std::string_view bytes) {
  if (!open_) return;
  if (!out_.empty()) {
    out_.append(bytes);
    return;
  }
  error_code ec;
  std::size_t n = sock_.write_some(asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec == asio::error::would_block) {
    n = 0;
  } else if (ec) {
    fail(ec);
    return;
  }
  if (n < bytes.size()) {
    out_.assign(bytes.substr(n));
    arm_write();
  }
}

void stream::close() {
  if (!sock_.is_open()) return;
  ++generation_;
  open_ = false;
  error_code ignored;
  sock_.close(ignored);
  // in_ may be what on_data is parsing right now; it is dropped at the next connect.
  out_.clear();
  out_off_ = 0;
  out_.shrink_to_fit();
}

void stream::arm_read() {
  sock_.async_wait(tcp::socket::wait_read, [this, gen = generation_](const error_code& ec) {
    if (gen != generation_ || ec) return;
    on_readable();
  });
}

void stream::on_readable() {
  const unsigned gen = generation_;
  for (;;) {
    error_code ec;
    std::size_t n = sock_.read_some(asio::buffer(scratch), ec);
    if (ec == asio::error::would_block) {
      // asio's reactor is edge-triggered: wait again only once the socket is drained.
      arm_read();
      return;
    }
    if (ec) {
      fail(ec);
      return;
    }
    const auto now = clock_type::now();
    if (in_.empty()) {
      std::size_t used = on_data(scratch.data(), n, now);
      if (gen != generation_) return;
      if (used < n) in_.assign(scratch.data() + used, n - used);
    } else {
      in_.append(scratch.data(), n);
      std::size_t used = on_data(in_.data(), in_.size(), now);
      if (gen != generation_) return;
      in_.erase(0, used);
      if (in_.empty() && in_.capacity() > 64 * 1024) in_.shrink_to_fit();
    }
  }
}

void stream::arm_write() {
  if (write_armed_) return;
  write_armed_ = true;
  sock_.async_wait(tcp::socket::wait_write, [this, gen = generation_](const error_code& ec) {
    if (gen != generation_ || ec) return;
    write_armed_ = false;
    on_writable();
  });
}

void stream::on_writable() {
  error_code ec;
  std::size_t n = sock_.write_some(asio::buffer(out_.data() + out_off_, out_.size() - out_off_), ec);
  if (ec && ec != asio::error::would_block) {
    fail(ec);
    return;
  }
  out_off_ += ec ? 0 : n;
  if (out_off_ < out_.size()) {
    if (out_off_ > 256 * 1024) {  // drop what was sent now and then, not after every write
      out_.erase(0, out_off_);
      out_off_ = 0;
    }
    arm_write();
    return;
  }
  out_.clear();
  out_off_ = 0;
  if (out_.capacity() > 64 * 1024) out_.shrink_to_fit();
}

void stream::fail(const error_code& ec) {
  close();
  on_closed(ec);
}

}  // namespace loadgen
