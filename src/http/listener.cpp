// Accept loop; see listener.hpp.
#include "http/listener.hpp"

#include "http/http_session.hpp"
#include "http/log_failure.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace sig::http {
namespace {

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);
constexpr auto refusal_timeout = std::chrono::seconds(2);
constexpr auto accept_failure_log_interval = std::chrono::seconds(10);

// A file descriptor kept open for the moment the process runs out of them: closing it lets the
// loop accept the waiting connection, answer it 503 and close it, instead of leaving it (and the
// client) hanging in the backlog while accept fails over and over.
class reserve_descriptor {
 public:
  reserve_descriptor() { reopen(); }
  ~reserve_descriptor() { release(); }
  reserve_descriptor(const reserve_descriptor&) = delete;
  reserve_descriptor& operator=(const reserve_descriptor&) = delete;

  void release() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void reopen() noexcept {
    if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  bool held() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// One line per interval at most, with how many failures it stands for: at the file limit, accept
// fails for every connection that arrives.
class accept_failure_log {
 public:
  void failed(const beast::error_code& ec) {
    ++suppressed_;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) return;
    spdlog::warn("accept failed: {} ({} times in the last {} s)", ec.message(), suppressed_,
                 accept_failure_log_interval.count());
    suppressed_ = 0;
    next_ = now + accept_failure_log_interval;
  }

 private:
  std::uint64_t suppressed_ = 0;
  std::chrono::steady_clock::time_point next_{};
};

bool out_of_descriptors(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE;
}

// Answers 503 with a JSON detail and closes, without reading the request: the connection is not
// taken on. Its own coroutine, so that a slow client cannot hold up the accept loop.
asio::awaitable<void> refuse(tcp::socket socket, std::string_view detail) {
  const std::string body = boost::json::serialize(boost::json::object{{"detail", detail}});
  const std::string answer =
      "HTTP/1.1 503 Service Unavailable\r\nServer: signaling-server\r\nContent-Type: application/json\r\n"
      "Retry-After: 5\r\nConnection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(refusal_timeout);
  co_await asio::async_write(stream, asio::buffer(answer), as_result);
  beast::error_code ignored;
  // Half-close and drain what the client already sent, so that closing does not reset the
  // connection before the client has read the answer.
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::array<char, 4096> sink{};
  for (int i = 0; i < 16; ++i) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), as_result);
    if (ec) break;
  }
}

void spawn_refusal(tcp::socket socket, std::string_view detail) {
  const auto executor = socket.get_executor();
  asio::co_spawn(executor, refuse(std::move(socket), detail), asio::detached);
}

}  // namespace

listener::listener(tcp::acceptor acceptor, session_context& context)
    : strand_(asio::make_strand(acceptor.get_executor())), acceptor_(std::move(acceptor)), context_(context) {}

void listener::start() { asio::co_spawn(strand_, accept_loop(), asio::detached); }

void listener::stop() {
  asio::post(strand_, [this] {
    stopping_ = true;
    beast::error_code ignored;
    acceptor_.cancel(ignored);
  });
}

void listener::take_on(tcp::socket socket) {
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto admitted = context_.admission ? context_.admission->admit(socket.remote_endpoint(ignored).address())
                                     : std::expected<connection_pass, std::string_view>(connection_pass{});
  if (!admitted) return spawn_refusal(std::move(socket), admitted.error());
  connection_pass pass = std::move(*admitted);
  // Counted from now, so that a shutdown that begins before the session has started waits for it.
  pass.registered.emplace(context_.connections.add([] {}));
  const auto session_executor = socket.get_executor();
  asio::co_spawn(session_executor, run_http_session(std::move(socket), context_, std::move(pass)),
                 log_failure("connection"));
}

void listener::take_on_waiting() {
  beast::error_code ec;
  acceptor_.non_blocking(true, ec);
  while (!ec) {
    tcp::socket socket = acceptor_.accept(asio::make_strand(acceptor_.get_executor()), ec);
    if (!ec) take_on(std::move(socket));
  }
  acceptor_.close(ec);
}

asio::awaitable<void> listener::accept_loop() {
  const auto executor = acceptor_.get_executor();
  reserve_descriptor reserve;
  accept_failure_log failures;
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(executor), as_result);
    if (stopping_ || !acceptor_.is_open()) {
      // Accepted just before stop() ran: dropping it would reset a client that already spoke.
      if (!ec) take_on(std::move(socket));
      break;
    }
    if (ec == asio::error::operation_aborted) continue;
    if (ec) {
      failures.failed(ec);
      if (out_of_descriptors(ec) && reserve.held()) {
        reserve.release();
        auto [again, waiting] = co_await acceptor_.async_accept(asio::make_strand(executor), as_result);
        if (!again) spawn_refusal(std::move(waiting), "Server at its connection limit, retry later");
        // The refusal holds the descriptor until it has answered; the reserve is taken back once
        // one is free again.
      } else {
        // Back off instead of spinning, and keep serving existing connections; take the reserve
        // back as soon as a descriptor is free (a refusal has answered), for the next one waiting.
        asio::steady_timer pause(executor, std::chrono::milliseconds(50));
        co_await pause.async_wait(as_result);
        reserve.reopen();
      }
      continue;
    }
    reserve.reopen();
    take_on(std::move(socket));
  }
  if (acceptor_.is_open()) take_on_waiting();
  stopped_ = true;
}

}  // namespace sig::http
