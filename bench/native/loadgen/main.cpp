// sig-loadgen: a one-threaded load generator for the signaling server (see ../README.md).
#include <csignal>
#include <cstdio>

#include "context.hpp"
#include "scenarios.hpp"
#include "sysinfo.hpp"

int main(int argc, char** argv) {
  using namespace loadgen;
  options opt = parse_options(argc, argv);
  // Thousands of sockets: the soft limit (often 1024) would stop us long before the hard one.
  raise_open_files();
  std::signal(SIGPIPE, SIG_IGN);
  context ctx(std::move(opt));
  const std::string& s = ctx.opt.scenario;
  if (s == "connect") return run_connect(ctx);
  if (s == "memory") return run_memory(ctx);
  if (s == "fanout") return run_fanout(ctx);
  if (s == "storm") return run_storm(ctx);
  if (s == "relay") return run_relay(ctx);
  if (s == "rest") return run_rest(ctx);
  std::fprintf(stderr, "sig-loadgen: unknown scenario %s (connect memory fanout storm relay rest)\n", s.c_str());
  return 2;
}
