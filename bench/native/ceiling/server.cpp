#include "server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../common/ws_frame.hpp"

namespace ceiling {

namespace {

char scratch[256 * 1024];  // one thread: every read lands here first
std::string frame_scratch;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "sig-ceiling: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

}  // namespace

server::server(model& model, const std::string& host, int port) : m(model) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) die("socket");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) die("bad --host");
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("bind");
  if (::listen(listen_fd_, SOMAXCONN) < 0) die("listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("sig-ceiling listening on %s:%d\n", host.c_str(), ntohs(addr.sin_port));
  std::fflush(stdout);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) die("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the listening socket
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
}

void server::run() {
  std::vector<epoll_event> events(1024);
  for (;;) {
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<conn*>(events[i].data.ptr);
      if (!c) {
        accept_all();
        continue;
      }
      if (c->dead) continue;
      if (events[i].events & EPOLLOUT) flush(*c);
      if (!c->dead && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) on_readable(*c);
    }
    // By index: a connection that dies while flushing announces its peer offline, which queues
    // output for others and appends to dirty_.
    for (std::size_t i = 0; i < dirty_.size(); ++i) {
      conn* c = dirty_[i];
      c->dirty = false;
      if (!c->dead) flush(*c);
    }
    dirty_.clear();
    for (conn* c : dead_) delete c;
    dead_.clear();
  }
}

void server::accept_all() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      std::perror("sig-ceiling: accept4");  // EMFILE: the client will time out; keep serving the others
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto* c = new conn;
    c->fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

void server::on_readable(conn& c) {
  for (;;) {
    ssize_t n = ::read(c.fd, scratch, sizeof scratch);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      kill(c);
      return;
    }
    const auto got = static_cast<std::size_t>(n);
    if (c.in.empty()) {
      std::size_t used = on_input(c, scratch, got);
      if (c.dead) return;
      if (used < got) c.in.assign(scratch + used, got - used);
    } else {
      c.in.append(scratch, got);
      std::size_t used = on_input(c, c.in.data(), c.in.size());
      if (c.dead) return;
      c.in.erase(0, used);
      if (c.in.empty() && c.in.capacity() > 4096) c.in.shrink_to_fit();
    }
    if (got < sizeof scratch) return;  // level-triggered: anything left wakes us again
  }
}

std::size_t server::on_input(conn& c, char* data, std::size_t size) {
  std::size_t used = 0;
  while (used < size && !c.dead && !c.closing) {
    std::size_t u =
        c.websocket ? ws_input(*this, c, data + used, size - used) : http_input(*this, c, data + used, size - used);
    if (u == 0) break;
    used += u;
  }
  // Input after a close is ignored (RFC 6455 5.5.1; HTTP "Connection: close").
  return c.closing ? size : used;
}

void server::queue(conn& c, std::string_view bytes) {
  if (c.dead) return;
  c.out.append(bytes);
  if (!c.dirty) {
    c.dirty = true;
    dirty_.push_back(&c);
  }
}

void server::queue_text(conn& c, std::string_view payload) {
  frame_scratch.clear();
  wsf::append_frame(frame_scratch, wsf::text, payload, false);
  queue(c, frame_scratch);
}

void server::queue_close(conn& c, std::uint16_t code) {
  frame_scratch.clear();
  wsf::append_frame(frame_scratch, wsf::close, wsf::close_payload(code), false);
  queue(c, frame_scratch);
  c.closing = true;
}

void server::flush(conn& c) {
  while (c.out_off < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) {
      kill(c);
      return;
    }
    c.out_off += static_cast<std::size_t>(n);
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  } else if (c.out_off > 256 * 1024) {
    // Drop what was sent only now and then: erasing the front after every partial write would
    // copy a slow reader's whole backlog each time.
    c.out.erase(0, c.out_off);
    c.out_off = 0;
  }
  const bool pending = !c.out.empty();
  if (pending != c.out_armed) {
    epoll_event ev{};
    ev.events = EPOLLIN | (pending ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.out_armed = pending;
  }
  if (!pending) {
    if (c.out.capacity() > 64 * 1024) c.out.shrink_to_fit();
    if (c.closing) kill(c);
  }
}

void server::kill(conn& c) {
  if (c.dead) return;
  c.dead = true;
  if (c.websocket) ws_gone(*this, c);
  ::close(c.fd);  // also leaves the epoll set
  dead_.push_back(&c);
}

}  // namespace ceiling
