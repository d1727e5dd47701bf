// Keep-alive HTTP/1.1 client connections and a pool that spreads queued requests over them.
//
// Used for the untimed set-up (register, login, organizations, allocations) and for the `rest`
// scenario. One request in flight per connection, as wrk does; a dropped connection reports
// status 0 and is reopened for the next request.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream.hpp"

namespace loadgen {

// The bytes of one request; `token` empty: no Authorization header; `body` empty: no body.
std::string http_request(std::string_view method, std::string_view path, std::string_view token, std::string_view body);

class http_conn final : public stream {
 public:
  using callback = std::function<void(int status, std::string_view body, clock_type::time_point now)>;

  http_conn(asio::io_context& io, tcp::endpoint server, const asio::ip::address_v4* source)
      : stream(io), server_(server), source_(source) {}

  // Sends `request` (reconnecting first when needed); `done` gets the status (0: connection
  // failed or dropped) and the body.
  void request(std::string request, callback done);
  bool busy() const { return static_cast<bool>(done_); }

 private:
  void on_connected(const error_code& ec) override;
  std::size_t on_data(char* data, std::size_t size, clock_type::time_point now) override;
  void on_closed(const error_code& ec) override;
  void finish(int status, std::string_view body, clock_type::time_point now);

  tcp::endpoint server_;
  const asio::ip::address_v4* source_;
  std::string pending_;  // the request waiting for the connection
  callback done_;
};

// Requests queued and run over `connections` keep-alive connections.
class http_pool {
 public:
  http_pool(asio::io_context& io, tcp::endpoint server, int connections);

  void submit(std::string request, http_conn::callback done);
  // The same after `delay_ms` (a retry after 503 or 429); drain() waits for it too.
  void submit_after(int delay_ms, std::string request, http_conn::callback done);
  // Runs the io_context until every submitted request (and those submitted by callbacks) is
  // answered, or `timeout_s` passes; false on time-out.
  bool drain(double timeout_s);

 private:
  void dispatch();

  asio::io_context& io_;
  std::vector<std::unique_ptr<http_conn>> conns_;
  std::deque<std::pair<std::string, http_conn::callback>> queue_;
  int in_flight_ = 0;  // sent, or waiting for a retry
};

}  // namespace loadgen
