// Access log lines; see access_log.hpp.
#include "http/access_log.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <iterator>

namespace sig::http {
namespace {

constexpr std::size_t max_logged_path = 128;
constexpr std::size_t max_logged_method = 32;  // a method is a token of any length
constexpr char hex_digits[] = "0123456789abcdef";

using line_buffer = fmt::memory_buffer;

// Text: a value is one word; a byte that could end it, split the line or fool a terminal is
// written as \xNN (the backslash too, so that the escaping cannot be faked).
void append_text(line_buffer& out, std::string_view value) {
  if (value.empty()) {
    out.push_back('-');
    return;
  }
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x21 && byte <= 0x7E && c != '\\') {
      out.push_back(c);
    } else {
      const char escape[] = {'\\', 'x', hex_digits[byte >> 4], hex_digits[byte & 0xF]};
      out.append(escape, escape + sizeof escape);
    }
  }
}

// JSON: the contents of a string. Bytes outside ASCII become \u00NN, so that a line stays valid
// UTF-8 whatever a client sent.
void append_json(line_buffer& out, std::string_view value) {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte >= 0x7F) {
      const char escape[] = {'\\', 'u', '0', '0', hex_digits[byte >> 4], hex_digits[byte & 0xF]};
      out.append(escape, escape + sizeof escape);
    } else {
      out.push_back(c);
    }
  }
}

double milliseconds(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

void format_text(line_buffer& out, const access_entry& entry, const websocket_entry* websocket) {
  const auto field = [&out](std::string_view key, std::string_view value) {
    out.append(key);
    out.push_back('=');
    append_text(out, value);
    out.push_back(' ');
  };
  field("method", entry.method);
  field("route", entry.route);
  fmt::format_to(std::back_inserter(out), "status={} duration_ms={:.3f} bytes_in={} bytes_out={} ", entry.status,
                 milliseconds(entry.duration), entry.bytes_in, entry.bytes_out);
  if (websocket) {
    if (websocket->close_code)
      fmt::format_to(std::back_inserter(out), "close_code={} ", *websocket->close_code);
    else
      out.append(std::string_view("close_code=- "));
    fmt::format_to(std::back_inserter(out), "messages_in={} messages_out={} ", websocket->messages_in,
                   websocket->messages_out);
    field("peer_id", websocket->peer_id);
    field("agent_id", websocket->agent_id);
  }
  field("client", entry.client);
  if (entry.user_id != 0)
    fmt::format_to(std::back_inserter(out), "user_id={} ", entry.user_id);
  else
    out.append(std::string_view("user_id=- "));
  out.append(std::string_view("request_id="));
  append_text(out, entry.request_id);
}

// The fields after "time", "level" and "logger", which the logger's pattern writes
// (app/logging.cpp): "message" as in every JSON line of the server, then the fields.
void format_json(line_buffer& out, const access_entry& entry, const websocket_entry* websocket) {
  const auto text = [&out](std::string_view key, std::string_view value) {
    out.push_back(',');
    out.push_back('"');
    out.append(key);
    out.append(std::string_view("\":\""));
    append_json(out, value);
    out.push_back('"');
  };
  const auto optional_text = [&out, &text](std::string_view key, std::string_view value) {
    if (!value.empty()) return text(key, value);
    out.push_back(',');
    fmt::format_to(std::back_inserter(out), "\"{}\":null", key);
  };
  out.append(std::string_view("\"message\":\""));
  append_json(out, entry.method.empty() ? std::string_view("-") : entry.method);
  out.push_back(' ');
  append_json(out, entry.route);
  fmt::format_to(std::back_inserter(out), " {}\"", entry.status);
  optional_text("method", entry.method);
  text("route", entry.route);
  fmt::format_to(std::back_inserter(out), ",\"status\":{},\"duration_ms\":{:.3f},\"bytes_in\":{},\"bytes_out\":{}",
                 entry.status, milliseconds(entry.duration), entry.bytes_in, entry.bytes_out);
  if (websocket) {
    if (websocket->close_code)
      fmt::format_to(std::back_inserter(out), ",\"close_code\":{}", *websocket->close_code);
    else
      out.append(std::string_view(",\"close_code\":null"));
    fmt::format_to(std::back_inserter(out), ",\"messages_in\":{},\"messages_out\":{}", websocket->messages_in,
                   websocket->messages_out);
    optional_text("peer_id", websocket->peer_id);
    optional_text("agent_id", websocket->agent_id);
  }
  optional_text("client", entry.client);
  if (entry.user_id != 0)
    fmt::format_to(std::back_inserter(out), ",\"user_id\":{}", entry.user_id);
  else
    out.append(std::string_view(",\"user_id\":null"));
  text("request_id", entry.request_id);
}

}  // namespace

access_log::access_log(std::shared_ptr<spdlog::logger> logger, access_log_format format)
    : logger_(std::move(logger)), format_(format) {}

access_log::~access_log() = default;

bool access_log::enabled() const noexcept { return logger_ && logger_->should_log(spdlog::level::info); }

void access_log::request(const access_entry& entry) const { write(entry, nullptr); }

void access_log::websocket_session(const access_entry& entry, const websocket_entry& websocket) const {
  write(entry, &websocket);
}

void access_log::write(const access_entry& entry, const websocket_entry* websocket) const {
  if (!enabled()) return;
  access_entry bounded = entry;
  bounded.method = entry.method.substr(0, max_logged_method);
  bounded.route = entry.route.substr(0, max_logged_path);
  line_buffer line;
  if (format_ == access_log_format::json)
    format_json(line, bounded, websocket);
  else
    format_text(line, bounded, websocket);
  logger_->log(spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
}

std::string_view loggable_path(std::string_view target) noexcept {
  return target.substr(0, std::min(target.find('?'), max_logged_path));
}

}  // namespace sig::http
