// The access log (ACCESS_LOG): one line per HTTP request and one per WebSocket session end, at info
// level on the spdlog logger "access", as key=value text or as one JSON object (LOG_FORMAT). A line
// names a route by its template (/organizations/{org_id}/members), never by the raw target, which
// may carry ?token= or anything else a client put there; it never holds a header or a body.
// Thread-safe: a line is formatted by its caller and written whole by spdlog's sink.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace sig::http {

enum class access_log_format { text, json };

/// What every line tells. The views need only live during the call.
struct access_entry {
  std::string_view method;  // empty: the request line was never read
  std::string_view route;   // a route template, or a path made safe by loggable_path
  unsigned status = 0;      // 0: no response was sent
  std::chrono::steady_clock::duration duration{};
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::string_view client;   // the client address admission uses (TRUSTED_PROXIES honoured)
  std::int64_t user_id = 0;  // 0: not authenticated
  std::string_view request_id;
};

/// What the line of a WebSocket session's end adds. Its access_entry counts the session's messages:
/// bytes_in their payloads, bytes_out the frames that carried them (not the upgrade, pings or close).
struct websocket_entry {
  std::optional<std::uint16_t> close_code;  // ours, else the peer's; none: the connection just ended
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::string_view peer_id;   // empty: never registered
  std::string_view agent_id;  // empty: none given
};

/// Who asked for a WebSocket upgrade, as the session's line names it: handed from the HTTP session
/// to the WebSocket session with the connection.
struct request_origin {
  std::string client;
  std::string request_id;
};

class access_log {
 public:
  /// A null `logger` turns the log off (ACCESS_LOG=off).
  access_log(std::shared_ptr<spdlog::logger> logger, access_log_format format);
  ~access_log();

  /// Whether a line would be written (on, and the logger's level lets info through).
  bool enabled() const noexcept;
  void request(const access_entry& entry) const;
  void websocket_session(const access_entry& entry, const websocket_entry& websocket) const;

 private:
  void write(const access_entry& entry, const websocket_entry* websocket) const;

  std::shared_ptr<spdlog::logger> logger_;
  access_log_format format_;
};

/// The path of a request target for the log when no route template matched: without its query,
/// cut at 128 characters. The line escapes what it holds.
std::string_view loggable_path(std::string_view target) noexcept;

}  // namespace sig::http
