// This process in the cluster; see cluster_node.hpp.
#include "cluster/cluster_node.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <thread>

namespace sig::cluster {

cluster_node::cluster_node(store::cluster_store& db, cluster_config config)
    : db_(db), config_(std::move(config)), self_(db.join_cluster(config_.process_name)), names_{db.channel_prefix()} {
  spdlog::info("cluster: joined as process {} ({}); peers of a process silent for {} ms are announced offline", self_,
               config_.process_name, config_.dead_after.count());
}

cluster_node::~cluster_node() { stop(std::chrono::milliseconds(0)); }

void cluster_node::start(signaling::hub& hub, telemetry::metrics& metrics) {
  publisher_ = std::make_unique<publisher>(db_, hub, metrics, config_, self_, names_);
  listener_ = std::make_unique<listener>(db_, hub, metrics, config_, self_, names_);
  metrics.watch_cluster([this] { return ready(); });
  publisher_->start([this] { listener_->request_reconciliation(); });
  listener_->start();
}

void cluster_node::stop(std::chrono::milliseconds grace) {
  if (listener_) listener_->stop();
  if (publisher_) publisher_->stop(grace);
}

void cluster_node::publish(const signaling::presence_event& event) {
  if (publisher_) publisher_->enqueue(event);
}

void cluster_node::register_peer(registration r) { publisher_->enqueue(std::move(r)); }

bool cluster_node::ready() const noexcept {
  return listener_ && publisher_ && listener_->connected() && publisher_->healthy();
}

bool cluster_node::wait_ready(std::chrono::milliseconds limit) const {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::vector<signaling::peer_info> cluster_directory::online_peers(domain::id organization_id) const {
  std::map<domain::ipv4, signaling::peer_info> here;
  for (auto& peer : hub_.local_peers(organization_id)) here.emplace(peer.virtual_ip, std::move(peer));
  std::vector<signaling::peer_info> online;
  for (auto& row : db_.online_peers(organization_id)) {
    if (row.process != node_.id()) {
      online.push_back(std::move(row));
      continue;
    }
    // This process's own: the hub is ahead of its publisher (an update, a leave in flight).
    const auto local = here.find(row.virtual_ip);
    if (local != here.end() && local->second.registration == row.registration) online.push_back(local->second);
  }
  return online;
}

}  // namespace sig::cluster
