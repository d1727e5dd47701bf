#include "http.hpp"

#include <cctype>
#include <charconv>

namespace ceiling {

namespace {

bool header_is(std::string_view line, std::string_view lower_name) {
  if (line.size() <= lower_name.size() || line[lower_name.size()] != ':') return false;
  for (std::size_t i = 0; i < lower_name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != lower_name[i]) return false;
  return true;
}

std::string_view value_of(std::string_view line, std::size_t name_len) {
  std::string_view v = line.substr(name_len + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    default: return "Error";
  }
}

std::string response_scratch;

}  // namespace

void respond(server& s, conn& c, int status, std::string_view body) {
  std::string& r = response_scratch;
  r.assign("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(reason(status));
  r.append("\r\nContent-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size()));
  if (status == 401) r.append("\r\nWWW-Authenticate: Bearer");
  r.append("\r\n\r\n").append(body);
  s.queue(c, r);
}

std::size_t http_input(server& s, conn& c, char* data, std::size_t size) {
  std::string_view in(data, size);
  const std::size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (size > 64 * 1024) {
      respond(s, c, 413, R"({"detail":"Request header too large"})");
      c.closing = true;
    }
    return 0;
  }
  request r;
  std::string_view head = in.substr(0, head_end);
  std::size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  const std::size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 <= sp1) {
    respond(s, c, 400, R"({"detail":"Bad request"})");
    c.closing = true;
    return size;
  }
  r.method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string_view::npos) r.query = target.substr(q + 1);
  std::size_t length = 0;
  bool close_after = false;
  while (line_end != std::string_view::npos) {
    const std::size_t next = head.find("\r\n", line_end + 2);
    line = head.substr(line_end + 2, next == std::string_view::npos ? std::string_view::npos : next - line_end - 2);
    line_end = next;
    if (header_is(line, "content-length")) {
      std::string_view v = value_of(line, 14);
      std::from_chars(v.data(), v.data() + v.size(), length);
    } else if (header_is(line, "authorization")) {
      r.authorization = value_of(line, 13);
    } else if (header_is(line, "upgrade")) {
      r.upgrade = true;
    } else if (header_is(line, "sec-websocket-key")) {
      r.websocket_key = value_of(line, 17);
    } else if (header_is(line, "connection")) {
      std::string_view v = value_of(line, 10);
      close_after = v == "close" || v == "Close";
    }
  }
  if (length > 1024 * 1024) {
    respond(s, c, 413, R"({"detail":"Request body too large"})");
    c.closing = true;
    return size;
  }
  if (size < head_end + 4 + length) return 0;
  r.body = in.substr(head_end + 4, length);
  if (r.upgrade && (r.path == "/ws" || r.path == "/ws/")) {
    ws_upgrade(s, c, r);
  } else {
    rest_route(s, c, r);
    if (close_after) c.closing = true;
  }
  return head_end + 4 + length;
}

}  // namespace ceiling
