// The accept loop: every connection gets its own strand and its own coroutine; a failure inside
// one connection is logged and ends only that connection. Connections are admitted (admission.hpp)
// before anything is read, and the process's file limit is handled with a reserve descriptor.
#pragma once

#include "http/beast.hpp"
#include "http/session_context.hpp"

#include <boost/asio/strand.hpp>

#include <atomic>

namespace sig::http {

class listener {
 public:
  /// `acceptor` is open and listening.
  listener(tcp::acceptor acceptor, session_context& context);

  /// Starts accepting, on the listener's own strand.
  void start();
  /// Stops accepting (thread-safe): the connections already waiting in the backlog are taken on
  /// first, since closing the acceptor would reset them, then the acceptor closes.
  void stop();

  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  /// True once stop() has taken on the waiting connections and closed the acceptor.
  bool stopped() const noexcept { return stopped_.load(); }

 private:
  asio::awaitable<void> accept_loop();
  void take_on(tcp::socket socket);
  void take_on_waiting();

  asio::strand<asio::any_io_executor> strand_;
  tcp::acceptor acceptor_;
  session_context& context_;
  bool stopping_ = false;  // on strand_
  std::atomic<bool> stopped_{false};
};

}  // namespace sig::http
