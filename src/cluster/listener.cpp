// The listener of a cluster process; see listener.hpp.
#include "cluster/listener.hpp"

#include <spdlog/spdlog.h>

namespace sig::cluster {
namespace {

using clock = std::chrono::steady_clock;

constexpr auto wait_slice = std::chrono::milliseconds(250);  // how soon a stop is noticed
constexpr auto first_retry = std::chrono::milliseconds(100);
constexpr auto last_retry = std::chrono::milliseconds(2000);

}  // namespace

listener::listener(store::cluster_store& db, signaling::hub& hub, telemetry::metrics& metrics,
                   const cluster_config& config, domain::process_id self, channels names)
    : db_(db), hub_(hub), metrics_(metrics), config_(config), self_(self), names_(std::move(names)) {}

listener::~listener() { stop(); }

void listener::start() {
  thread_ = std::thread([this] { run(); });
}

void listener::stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

void listener::run() {
  auto retry_delay = first_retry;
  while (!stopping_.load()) {
    try {
      listen_until_lost();
      retry_delay = first_retry;
    } catch (const std::exception& e) {
      if (connected_.exchange(false))
        spdlog::warn("cluster: lost the notification connection ({}); reconnecting", e.what());
      const auto until = clock::now() + retry_delay;
      while (!stopping_.load() && clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      retry_delay = std::min<std::chrono::milliseconds>(retry_delay * 2, last_retry);
    }
  }
  connected_.store(false);
}

void listener::listen_until_lost() {
  const auto connection = db_.listen({names_.presence(), names_.process(self_)});
  // Listening first, then the snapshot: whatever changes after it is also notified.
  reconcile(*connection);
  if (!connected_.exchange(true)) spdlog::info("cluster: listening for the other processes");
  auto next_check = clock::now() + config_.check_every();
  while (!stopping_.load()) {
    for (const auto& n : connection->wait(wait_slice)) apply(n);
    if (reconcile_requested_.exchange(false)) reconcile(*connection);
    if (clock::now() >= next_check) {
      // Notifications in flight can make the two differ for a moment; reconciling then is
      // harmless, and cheap next to missing something for good.
      if (connection->presence_checksum(self_) != hub_.remote_checksum()) reconcile(*connection);
      next_check = clock::now() + config_.check_every();
    }
  }
}

void listener::reconcile(store::notification_listener& connection) {
  const std::uint64_t mark = hub_.join_mark();
  const auto rows = connection.presence_snapshot();
  hub_.reconcile(rows, mark);
  reconciliations_.fetch_add(1, std::memory_order_relaxed);
  metrics_.cluster_reconciled();
  spdlog::debug("cluster: reconciled with {} presence rows", rows.size());
}

void listener::apply(const store::notification& n) {
  const auto payload = unpack(n.payload);
  if (!payload) {
    spdlog::warn("cluster: {} (channel {})", payload.error(), n.channel);
    return;
  }
  if (payload->origin == self_) return;  // applied here already
  for (const auto& e : payload->events) hub_.apply_remote(e);
  metrics_.cluster_events_received(payload->events.size());
}

}  // namespace sig::cluster
