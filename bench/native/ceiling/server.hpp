// The ceiling server's event loop: one thread, level-triggered epoll, non-blocking sockets.
//
// Output is appended to a per-connection buffer while an epoll batch is handled and written
// once per connection at the end of the batch: one write per socket per event (or fewer, when
// several events for one socket fall into the same batch).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model.hpp"

namespace ceiling {

struct conn {
  int fd = -1;
  bool websocket = false;
  bool dead = false;     // closed; freed at the end of the batch
  bool dirty = false;    // has output queued in this batch
  bool closing = false;  // close once the output is written
  bool out_armed = false;
  std::string in;   // an incomplete request or frame
  std::string out;  // output not yet taken by the kernel, from out_off on
  std::size_t out_off = 0;
  // WebSocket state
  std::int64_t user = 0;
  bool registered = false;
  int org = -1;
  std::uint32_t ip = 0;
  std::uint32_t slot = 0;  // index in organization::online
  std::string peer_id;
  std::string peer_json;  // this peer as the peer object of the protocol
};

class server {
 public:
  server(model& m, const std::string& host, int port);
  [[noreturn]] void run();

  model& m;

  void queue(conn& c, std::string_view bytes);
  void queue_text(conn& c, std::string_view payload);  // one text frame
  void queue_close(conn& c, std::uint16_t code);       // a close frame, then close
  void kill(conn& c);                                  // close now

 private:
  void accept_all();
  void on_readable(conn& c);
  std::size_t on_input(conn& c, char* data, std::size_t size);
  void flush(conn& c);

  int epoll_fd_ = -1;
  int listen_fd_ = -1;
  std::vector<conn*> dirty_;
  std::vector<conn*> dead_;
};

// Protocol handlers: each takes the first request (HTTP) or frame (WebSocket) of `data` and
// returns the bytes it used, 0 if incomplete.
std::size_t http_input(server& s, conn& c, char* data, std::size_t size);
std::size_t ws_input(server& s, conn& c, char* data, std::size_t size);
// The connection is gone: announce its peer offline.
void ws_gone(server& s, conn& c);

}  // namespace ceiling
