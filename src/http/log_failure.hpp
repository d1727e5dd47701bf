// The completion handler of a connection's detached coroutine: an exception that escaped it is
// logged, not lost (asio::detached would drop it) and not rethrown into the I/O thread's run loop.
#pragma once

#include <spdlog/spdlog.h>

#include <exception>
#include <string_view>

namespace sig::http {

/// `what` names the coroutine in the log line ("connection", "websocket session").
inline auto log_failure(std::string_view what) {
  return [what](const std::exception_ptr& failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      spdlog::error("{} ended by an error: {}", what, e.what());
    }
  };
}

}  // namespace sig::http
