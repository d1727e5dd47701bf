// What the generator reads from the kernel: a process's resident memory, the machine's socket
// counts, and its own open-file limit.
#pragma once

#include <cstdint>

namespace loadgen {

// VmRSS of process `pid` in KiB (-1 if unreadable).
std::int64_t rss_kib(int pid);

struct sockstat {
  std::int64_t tcp_inuse = -1;
  std::int64_t tcp_mem_pages = -1;  // pages of socket buffers, all TCP sockets of the machine
};
sockstat read_sockstat();

// Raises the soft RLIMIT_NOFILE to the hard one; returns the new soft limit.
std::int64_t raise_open_files();

}  // namespace loadgen
