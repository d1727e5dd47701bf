// The signaling hub: what this process's own agents do. What other processes do, and the
// reconciliation with the presence table, are in hub_cluster.cpp.
#include "signaling/hub.hpp"

#include <vector>

namespace sig::signaling {
namespace {

using event = presence_event;

// How long an address remembers that its registrations up to some epoch are over: far longer than
// a registration takes from its database lookup to its join, or a notification to arrive.
constexpr auto floor_lifetime = std::chrono::minutes(5);

}  // namespace

hub::hub(presence_bus& bus, domain::process_id self) : bus_(bus), self_(self) {}

domain::epoch hub::next_epoch() noexcept { return last_epoch_.fetch_add(1, std::memory_order_relaxed) + 1; }

std::uint64_t hub::join_mark() const noexcept { return joins_.load(std::memory_order_acquire); }

std::shared_ptr<hub::organization> hub::organization_of(domain::id organization_id, bool create) const {
  std::lock_guard lock(organizations_mutex_);
  auto it = organizations_.find(organization_id);
  if (it != organizations_.end()) return it->second;
  if (!create) return nullptr;
  // Organizations are never removed from the map, so a pointer obtained here is never orphaned
  // by a concurrent removal; an idle one costs a few bytes.
  return organizations_.emplace(organization_id, std::make_shared<organization>()).first->second;
}

std::vector<std::pair<domain::id, std::shared_ptr<hub::organization>>> hub::all_organizations() const {
  std::lock_guard lock(organizations_mutex_);
  return {organizations_.begin(), organizations_.end()};
}

void hub::broadcast(const organization& org, domain::ipv4 except, const shared_message& message) {
  for (const auto& [address, e] : org.peers) {
    if (address == except) continue;
    if (auto connection = e.connection.lock()) connection->deliver(message);
  }
}

std::shared_ptr<peer_connection> hub::take_offline(organization& org, peer_iterator at) {
  auto connection = at->second.local ? at->second.connection.lock() : nullptr;
  const peer_info peer = std::move(at->second.peer);
  org.peers.erase(at);
  broadcast(org, peer.virtual_ip, peer_offline_message(peer));
  return connection;
}

void hub::raise_floor(organization& org, domain::ipv4 address, domain::epoch epoch) {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(org.floors, [&](const auto& f) { return f.second.until <= now; });
  floor& f = org.floors[address];
  f.epoch = std::max(f.epoch, epoch);
  f.until = now + floor_lifetime;
}

domain::epoch hub::floor_of(organization& org, domain::ipv4 address) {
  const auto found = org.floors.find(address);
  if (found == org.floors.end()) return 0;
  if (found->second.until <= std::chrono::steady_clock::now()) {
    org.floors.erase(found);
    return 0;
  }
  return found->second.epoch;
}

std::shared_ptr<peer_connection> hub::end_up_to(organization& org, domain::ipv4 address, domain::epoch epoch) {
  const auto held = org.peers.find(address);
  if (held != org.peers.end() && held->second.peer.registration > epoch) return nullptr;  // a later one holds it
  // News of registrations up to `epoch` that have not arrived yet must not bring them online.
  if (held == org.peers.end() || held->second.peer.registration < epoch) raise_floor(org, address, epoch);
  return held == org.peers.end() ? nullptr : take_offline(org, held);
}

std::optional<domain::epoch> hub::join(const std::shared_ptr<peer_connection>& connection, peer_info peer,
                                       const domain::cidr& subnet, domain::epoch ticket,
                                       std::string_view ice_servers_json) {
  // "Everything so far" (a disconnect with epoch 0) must cover this registration, wherever its
  // epoch came from.
  for (domain::epoch last = last_epoch_.load(std::memory_order_relaxed);
       last < peer.registration && !last_epoch_.compare_exchange_weak(last, peer.registration);) {
  }
  const auto org = organization_of(peer.organization_id, true);
  std::shared_ptr<peer_connection> replaced;
  std::optional<close_reason> refused;
  {
    std::lock_guard lock(org->mutex);
    if (peer.registration == 0) peer.registration = next_epoch();  // under the lock: join order
    const auto held = org->peers.find(peer.virtual_ip);
    if (ticket <= floor_of(*org, peer.virtual_ip)) {
      refused = close_reason::removed;
    } else if (held != org->peers.end() && held->second.peer.registration >= peer.registration) {
      refused = close_reason::replaced;
    } else {
      if (held != org->peers.end()) replaced = take_offline(*org, held);
      std::vector<const std::string*> existing;
      existing.reserve(org->peers.size());
      for (const auto& [address, e] : org->peers) existing.push_back(&e.json);
      connection->deliver(registered_message(peer, subnet, existing, ice_servers_json));

      entry& added = org->peers[peer.virtual_ip];
      added = entry{peer, peer_json(peer), connection, true, joins_.fetch_add(1, std::memory_order_acq_rel) + 1};
      broadcast(*org, peer.virtual_ip, peer_online_message(added.json));
      bus_.publish(event{event::kind::online, event::cause::left, peer, 0, 0, {}});
    }
  }
  if (refused) {
    connection->disconnect(*refused);
    return std::nullopt;
  }
  if (replaced && replaced != connection) replaced->disconnect(close_reason::replaced);
  return peer.registration;
}

void hub::leave(const peer_info& peer) {
  const auto org = organization_of(peer.organization_id, false);
  if (!org) return;
  std::lock_guard lock(org->mutex);
  const auto held = org->peers.find(peer.virtual_ip);
  if (held == org->peers.end() || held->second.peer.registration != peer.registration || !held->second.local) return;
  take_offline(*org, held);
  bus_.publish(event{event::kind::offline, event::cause::left, peer, 0, 0, {}});
}

std::optional<peer_info> hub::update(const peer_info& peer, const update_request& request) {
  const auto org = organization_of(peer.organization_id, false);
  if (!org) return std::nullopt;
  std::lock_guard lock(org->mutex);
  const auto held = org->peers.find(peer.virtual_ip);
  if (held == org->peers.end() || held->second.peer.registration != peer.registration || !held->second.local)
    return std::nullopt;
  entry& current = held->second;
  const endpoints updated = apply_update(current.peer.reachable, request);
  if (updated == current.peer.reachable) return current.peer;
  current.peer.reachable = updated;
  current.json = peer_json(current.peer);
  broadcast(*org, peer.virtual_ip, peer_update_message(current.json));
  bus_.publish(event{event::kind::update, event::cause::left, current.peer, 0, 0, {}});
  return current.peer;
}

bool hub::relay(const peer_info& from, std::string_view to, const std::string& data_json) {
  const auto org = organization_of(from.organization_id, false);
  if (!org) return false;
  const shared_message message = signal_message(from, data_json);
  std::lock_guard lock(org->mutex);
  // A connection that was replaced or removed a moment ago no longer speaks for its address.
  const auto sender = org->peers.find(from.virtual_ip);
  if (sender == org->peers.end() || sender->second.peer.registration != from.registration) return false;
  auto target = org->peers.end();
  if (const auto address = domain::parse_ipv4(to)) target = org->peers.find(*address);
  if (target == org->peers.end()) {
    for (auto it = org->peers.begin(); it != org->peers.end(); ++it) {
      if (it->second.peer.peer_id != to) continue;
      if (target != org->peers.end()) return false;  // ambiguous: several peers use this peer_id
      target = it;
    }
  }
  if (target == org->peers.end()) return false;
  if (target->second.local) {
    if (auto connection = target->second.connection.lock()) connection->deliver(message);
  } else {
    bus_.publish(event{event::kind::signal, event::cause::left, from, target->first, target->second.peer.process,
                       message->text});
  }
  return true;
}

std::vector<peer_info> hub::online_peers(domain::id organization_id) const {
  std::vector<peer_info> peers;
  const auto org = organization_of(organization_id, false);
  if (!org) return peers;
  std::lock_guard lock(org->mutex);
  peers.reserve(org->peers.size());
  for (const auto& [address, e] : org->peers) peers.push_back(e.peer);
  return peers;
}

std::vector<peer_info> hub::local_peers(domain::id organization_id) const {
  std::vector<peer_info> peers;
  const auto org = organization_of(organization_id, false);
  if (!org) return peers;
  std::lock_guard lock(org->mutex);
  for (const auto& [address, e] : org->peers)
    if (e.local) peers.push_back(e.peer);
  return peers;
}

void hub::disconnect(domain::id organization_id, std::span<const domain::ended_presence> ended) {
  if (ended.empty()) return;
  const auto org = organization_of(organization_id, true);
  std::vector<std::shared_ptr<peer_connection>> removed;
  {
    std::lock_guard lock(org->mutex);
    for (const domain::ended_presence& e : ended) {
      // Epoch 0: every registration made so far, including those still between their lookup
      // and their join (they took their epoch before the lookup).
      const domain::epoch up_to = e.registration != 0 ? e.registration : last_epoch_.load(std::memory_order_relaxed);
      if (auto connection = end_up_to(*org, e.address, up_to)) removed.push_back(std::move(connection));
      peer_info peer;
      peer.organization_id = organization_id;
      peer.virtual_ip = e.address;
      peer.registration = up_to;
      bus_.publish(event{event::kind::offline, event::cause::removed, std::move(peer), 0, 0, {}});
    }
  }
  for (const auto& connection : removed) connection->disconnect(close_reason::removed);
}

std::size_t hub::online_count() const {
  std::size_t count = 0;
  for (const auto& [id, org] : all_organizations()) {
    std::lock_guard lock(org->mutex);
    for (const auto& [address, e] : org->peers) count += e.local ? 1 : 0;
  }
  return count;
}

}  // namespace sig::signaling
