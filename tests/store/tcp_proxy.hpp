// A loopback TCP proxy in front of the test PostgreSQL that a test can cut and restore: the
// database "goes down" for the store behind it (connections dropped, new ones refused) and comes
// back, without disturbing the other tests that share the server.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace store_test {

class tcp_proxy {
 public:
  /// Forwards a free loopback port to 127.0.0.1:`upstream_port`.
  explicit tcp_proxy(std::uint16_t upstream_port) : upstream_port_(upstream_port) { open_listener(0); }
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;
  ~tcp_proxy() { cut(); }

  std::uint16_t port() const noexcept { return port_; }

  /// Drops every forwarded connection and refuses new ones.
  void cut() {
    running_ = false;
    if (worker_.joinable()) worker_.join();
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
    for (auto& [client, server] : pairs_) {
      ::close(client);
      ::close(server);
    }
    pairs_.clear();
  }

  /// Accepts again, on the same port.
  void restore() { open_listener(port_); }

 private:
  void open_listener(std::uint16_t port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int on = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 64) != 0)
      throw std::runtime_error("tcp_proxy: cannot listen");
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    running_ = true;
    worker_ = std::thread([this] { forward(); });
  }

  int connect_upstream() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(upstream_port_);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  void forward() {
    while (running_) {
      std::vector<pollfd> watched{{listener_, POLLIN, 0}};
      for (const auto& [client, server] : pairs_) {
        watched.push_back({client, POLLIN, 0});
        watched.push_back({server, POLLIN, 0});
      }
      if (::poll(watched.data(), watched.size(), 50) <= 0) continue;
      if (watched[0].revents & POLLIN) {
        const int client = ::accept(listener_, nullptr, nullptr);
        const int server = client >= 0 ? connect_upstream() : -1;
        if (server >= 0) {
          pairs_.emplace_back(client, server);
        } else if (client >= 0) {
          ::close(client);
        }
      }
      std::vector<bool> dead(pairs_.size(), false);
      for (std::size_t i = 1; i < watched.size(); ++i) {
        if (!(watched[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const std::size_t index = (i - 1) / 2;
        if (dead[index]) continue;
        const auto& pair = pairs_[index];
        const int from = watched[i].fd;
        const int to = from == pair.first ? pair.second : pair.first;
        char buffer[16384];
        const ssize_t got = ::read(from, buffer, sizeof buffer);
        if (got <= 0 || ::write(to, buffer, static_cast<std::size_t>(got)) != got) dead[index] = true;
      }
      for (std::size_t i = pairs_.size(); i-- > 0;) {
        if (!dead[i]) continue;
        ::close(pairs_[i].first);
        ::close(pairs_[i].second);
        pairs_.erase(pairs_.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }

  std::uint16_t upstream_port_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> running_{false};
  std::thread worker_;
  std::vector<std::pair<int, int>> pairs_;  // client, server; touched by the worker only while it runs
};

}  // namespace store_test
