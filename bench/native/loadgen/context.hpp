// What every scenario shares: options, the one io_context, the server's endpoint and the
// loopback source addresses sockets are spread over.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <vector>

#include "options.hpp"
#include "stream.hpp"

namespace loadgen {

class context {
 public:
  explicit context(options o);

  options opt;
  asio::io_context io{1};
  // Keeps io from stopping when, between phases, nothing is pending: run_until then waits
  // instead of returning at once (and spinning), and later work needs no restart().
  asio::executor_work_guard<asio::io_context::executor_type> keep_running{io.get_executor()};
  tcp::endpoint server;

  // The source address of the i-th socket (null: the kernel's choice). One source address has
  // ~28,000 ephemeral ports toward one server port, fewer after a run leaves TIME_WAIT behind.
  const asio::ip::address_v4* source_for(std::size_t i) const {
    return sources_.empty() ? nullptr : &sources_[i % sources_.size()];
  }

  // Runs the io_context until pred() holds (checked after each handler) or timeout_s passes.
  template <class Pred>
  bool run_until(Pred pred, double timeout_s) {
    const auto deadline = clock_type::now() + std::chrono::duration<double>(timeout_s);
    while (!pred()) {
      if (clock_type::now() > deadline) return false;
      io.run_one_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  // Runs the io_context for `seconds` (answers pings, reads stragglers).
  void run_for(double seconds) {
    run_until([] { return false; }, seconds);
  }

 private:
  std::vector<asio::ip::address_v4> sources_;
};

}  // namespace loadgen
