// What every scenario shares: options, the one io_context, the server's endpoint and the
// loopback source addresses sockets are spread over.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
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
  tcp::endpoint server;                  // REST (set-up, rest), and every WebSocket without --ports
  std::vector<tcp::endpoint> processes;  // where WebSockets go: --ports, or just `server`

  // Several processes of one cluster were given (--ports, even a single one): scenarios then
  // report per process and check each agent's peers by identity.
  bool spread() const { return !opt.ports.empty(); }
  // The process (index into `processes`) agent i's WebSocket goes to: round-robin by index.
  int process_for(int agent_index) const { return agent_index % static_cast<int>(processes.size()); }
  // With spread(): every message the agents received, by type.
  std::map<std::string, std::int64_t, std::less<>> received_by_type;

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
