#include "context.hpp"

#include <cstdio>
#include <cstdlib>

namespace loadgen {

context::context(options o) : opt(std::move(o)) {
  error_code ec;
  auto addr = asio::ip::make_address_v4(opt.host, ec);
  // A load generator pointed elsewhere would be a flood: loopback targets only.
  if (ec || !addr.is_loopback()) {
    std::fprintf(stderr, "sig-loadgen: --host must be a loopback IPv4 address, not %s\n", opt.host.c_str());
    std::exit(2);
  }
  server = tcp::endpoint(addr, static_cast<unsigned short>(opt.port));
  for (int port : opt.ports) processes.emplace_back(addr, static_cast<unsigned short>(port));
  if (processes.empty()) processes.push_back(server);
  for (int i = 0; i < opt.source_addrs; ++i)
    sources_.push_back(asio::ip::address_v4((127u << 24) | static_cast<unsigned>(2 + i)));
}

}  // namespace loadgen
