// Settings of this process's membership in a cluster (PROTOCOL.md §7), and the timings derived
// from CLUSTER_DEAD_AFTER_SECONDS.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace sig::cluster {

struct cluster_config {
  /// A process silent for this long is dead: its peers are announced offline by then.
  std::chrono::milliseconds dead_after{15'000};
  /// Shown in the processes table (host and pid).
  std::string process_name;
  /// Presence events waiting for the database while it is unreachable; beyond, signals are
  /// dropped (presence changes never are).
  std::size_t queue_limit = 65'536;

  std::chrono::milliseconds heartbeat_every() const { return dead_after / 5; }
  /// How often a survivor looks for dead processes.
  std::chrono::milliseconds reap_every() const { return dead_after / 10; }
  /// Silence after which a process is declared dead: looked for every reap_every(), so that its
  /// peers are announced within dead_after of its last heartbeat.
  std::chrono::milliseconds declared_dead_after() const { return dead_after - 2 * reap_every(); }
  /// How often the listener compares its view with the presence table (a cheap checksum).
  std::chrono::milliseconds check_every() const { return dead_after; }
};

}  // namespace sig::cluster
