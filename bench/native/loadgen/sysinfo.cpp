#include "sysinfo.hpp"

#include <sys/resource.h>

#include <fstream>
#include <sstream>
#include <string>

namespace loadgen {

std::int64_t rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

sockstat read_sockstat() {
  // "TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 1"
  sockstat s;
  std::ifstream in("/proc/net/sockstat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("TCP:", 0) != 0) continue;
    std::istringstream words(line.substr(4));
    std::string key;
    std::int64_t value = 0;
    while (words >> key >> value) {
      if (key == "inuse") s.tcp_inuse = value;
      if (key == "mem") s.tcp_mem_pages = value;
    }
  }
  return s;
}

std::int64_t raise_open_files() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
  r.rlim_cur = r.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &r);
  ::getrlimit(RLIMIT_NOFILE, &r);
  return static_cast<std::int64_t>(r.rlim_cur);
}

}  // namespace loadgen
