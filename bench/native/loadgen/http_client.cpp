#include "http_client.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <charconv>

namespace loadgen {

namespace {

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

std::string_view header_value(std::string_view line, std::size_t name_len) {
  std::string_view v = line.substr(name_len);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

std::string http_request(std::string_view method, std::string_view path, std::string_view token,
                         std::string_view body) {
  std::string r;
  r.reserve(160 + token.size() + body.size());
  r.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!token.empty()) r.append("Authorization: Bearer ").append(token).append("\r\n");
  if (!body.empty()) r.append("Content-Type: application/json\r\n");
  r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  return r;
}

void http_conn::request(std::string request, callback done) {
  done_ = std::move(done);
  if (is_open()) {
    send(request);
  } else {
    pending_ = std::move(request);
    connect(server_, source_);
  }
}

void http_conn::on_connected(const error_code& ec) {
  if (ec) {
    finish(0, {}, clock_type::now());
    return;
  }
  send(pending_);
  pending_.clear();
}

std::size_t http_conn::on_data(char* data, std::size_t size, clock_type::time_point now) {
  std::string_view in(data, size);
  std::size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return 0;
  std::string_view head = in.substr(0, head_end);
  int status = 0;
  if (head.size() > 12) std::from_chars(head.data() + 9, head.data() + 12, status);
  std::size_t length = 0;
  bool close_after = false;
  for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;) {
    std::size_t next = head.find("\r\n", pos + 2);
    std::string_view line = head.substr(pos + 2, next == std::string_view::npos ? next : next - pos - 2);
    if (iequals_prefix(line, "content-length:")) {
      std::string_view v = header_value(line, 15);
      std::from_chars(v.data(), v.data() + v.size(), length);
    } else if (iequals_prefix(line, "connection:")) {
      std::string_view v = header_value(line, 11);
      close_after = v.size() == 5 && iequals_prefix(v, "close");
    }
    pos = next;
  }
  const std::size_t total = head_end + 4 + length;
  if (size < total) return 0;
  std::string_view body = in.substr(head_end + 4, length);
  if (close_after) {
    // The body lives in the read buffer, which close() leaves alone until the next connect.
    close();
  }
  finish(status, body, now);
  return total;
}

void http_conn::on_closed(const error_code&) {
  if (done_) finish(0, {}, clock_type::now());
}

void http_conn::finish(int status, std::string_view body, clock_type::time_point now) {
  callback done = std::move(done_);
  done_ = nullptr;
  if (done) done(status, body, now);
}

http_pool::http_pool(asio::io_context& io, tcp::endpoint server, int connections) : io_(io) {
  for (int i = 0; i < connections; ++i) conns_.push_back(std::make_unique<http_conn>(io, server, nullptr));
}

void http_pool::submit(std::string request, http_conn::callback done) {
  queue_.emplace_back(std::move(request), std::move(done));
  dispatch();
}

void http_pool::submit_after(int delay_ms, std::string request, http_conn::callback done) {
  ++in_flight_;
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(delay_ms));
  timer->async_wait([this, timer, request = std::move(request), done = std::move(done)](const error_code&) mutable {
    --in_flight_;
    submit(std::move(request), std::move(done));
  });
}

void http_pool::dispatch() {
  for (auto& c : conns_) {
    if (queue_.empty()) return;
    if (c->busy()) continue;
    auto [request, done] = std::move(queue_.front());
    queue_.pop_front();
    ++in_flight_;
    c->request(std::move(request),
               [this, done = std::move(done)](int status, std::string_view body, clock_type::time_point now) {
                 --in_flight_;
                 done(status, body, now);
                 dispatch();
               });
  }
}

bool http_pool::drain(double timeout_s) {
  const auto deadline = clock_type::now() + std::chrono::duration<double>(timeout_s);
  while (in_flight_ > 0 || !queue_.empty()) {
    if (clock_type::now() > deadline) return false;
    io_.run_one_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace loadgen
