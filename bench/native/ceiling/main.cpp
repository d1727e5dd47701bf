// sig-ceiling: the fastest signaling server this machine runs, as a yardstick for ours.
//
// One thread, level-triggered epoll, state in memory, no database, no JSON library, no TLS,
// hand-written HTTP and WebSocket framing. It speaks just enough of the protocol (README.md,
// docs/protocol-notes.md) for sig-loadgen's scenarios: POST /register, POST /login,
// GET/POST /organizations, POST /organizations/{id}/join and /allocate_ip, the /ws upgrade
// with its token, register -> register_agent_response with existing_peers, peer_online,
// peer_offline, signal, ping.
//
// NOT a server to run for anyone: passwords are kept in plain text and compared as such,
// and the "token" is the string "ceiling-<user id>" (anyone can forge it). No hashing, no JWT,
// no rate limits, no time-outs, no input validation beyond what keeps the server itself sane:
// the point is to show what the machine and the generator allow when a server does nothing
// else.
//
//   sig-ceiling [--host 127.0.0.1] [--port 8000]
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server.hpp"

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 8000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view key = argv[i];
    if (key == "--host") {
      host = argv[i + 1];
    } else if (key == "--port") {
      port = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: sig-ceiling [--host H] [--port P]\n");
      return 2;
    }
  }
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;  // every agent is a descriptor
  ::setrlimit(RLIMIT_NOFILE, &r);
  std::signal(SIGPIPE, SIG_IGN);
  ceiling::model m;
  ceiling::server s(m, host, port);
  s.run();
}
