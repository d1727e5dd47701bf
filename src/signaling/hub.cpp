// The signaling hub; see hub.hpp.
#include "signaling/hub.hpp"

#include <vector>

namespace sig::signaling {
namespace {

using event = presence_event;

close_reason close_reason_of(event::cause why) {
  return why == event::cause::replaced ? close_reason::replaced : close_reason::removed;
}

}  // namespace

hub::hub(presence_bus& bus) : bus_(bus) {
  bus_.listen([this](const presence_event& e) { apply_remote(e); });
}

std::shared_ptr<hub::organization> hub::organization_of(domain::id organization_id, bool create) const {
  std::lock_guard lock(organizations_mutex_);
  auto it = organizations_.find(organization_id);
  if (it != organizations_.end()) return it->second;
  if (!create) return nullptr;
  // Organizations are never removed from the map, so a pointer obtained here is never orphaned
  // by a concurrent removal; an idle one costs a few bytes.
  return organizations_.emplace(organization_id, std::make_shared<organization>()).first->second;
}

void hub::broadcast(const organization& org, domain::ipv4 except, const shared_message& message) {
  for (const auto& [address, e] : org.peers) {
    if (address == except) continue;
    if (auto connection = e.connection.lock()) connection->deliver(message);
  }
}

std::shared_ptr<peer_connection> hub::take_offline(organization& org, std::map<domain::ipv4, entry>::iterator at) {
  auto connection = at->second.connection.lock();
  const peer_info peer = std::move(at->second.peer);
  org.peers.erase(at);
  broadcast(org, peer.virtual_ip, peer_offline_message(peer));
  return connection;
}

void hub::join(const std::shared_ptr<peer_connection>& connection, const peer_info& peer, const domain::cidr& subnet) {
  const auto org = organization_of(peer.organization_id, true);
  std::shared_ptr<peer_connection> replaced;
  {
    std::lock_guard lock(org->mutex);
    if (auto held = org->peers.find(peer.virtual_ip); held != org->peers.end()) {
      event offline{event::kind::offline, event::cause::replaced, held->second.peer, 0, {}};
      replaced = take_offline(*org, held);
      bus_.publish(offline);
    }
    std::vector<const std::string*> existing;
    existing.reserve(org->peers.size());
    for (const auto& [address, e] : org->peers) existing.push_back(&e.json);
    connection->deliver(registered_message(peer, subnet, existing));

    entry& added = org->peers[peer.virtual_ip];
    added = entry{peer, peer_json(peer), connection};
    broadcast(*org, peer.virtual_ip, peer_online_message(added.json));
    bus_.publish(event{event::kind::online, event::cause::left, peer, 0, {}});
  }
  if (replaced && replaced != connection) replaced->disconnect(close_reason::replaced);
}

void hub::leave(const peer_info& peer) {
  const auto org = organization_of(peer.organization_id, false);
  if (!org) return;
  std::lock_guard lock(org->mutex);
  const auto held = org->peers.find(peer.virtual_ip);
  if (held == org->peers.end() || held->second.peer.connection_id != peer.connection_id) return;
  take_offline(*org, held);
  bus_.publish(event{event::kind::offline, event::cause::left, peer, 0, {}});
}

std::optional<peer_info> hub::update(const peer_info& peer, const update_request& request) {
  const auto org = organization_of(peer.organization_id, false);
  if (!org) return std::nullopt;
  std::lock_guard lock(org->mutex);
  const auto held = org->peers.find(peer.virtual_ip);
  if (held == org->peers.end() || held->second.peer.connection_id != peer.connection_id) return std::nullopt;
  entry& current = held->second;
  const endpoints updated = apply_update(current.peer.reachable, request);
  if (updated == current.peer.reachable) return current.peer;
  current.peer.reachable = updated;
  current.json = peer_json(current.peer);
  broadcast(*org, peer.virtual_ip, peer_update_message(current.json));
  bus_.publish(event{event::kind::update, event::cause::left, current.peer, 0, {}});
  return current.peer;
}

bool hub::relay(const peer_info& from, std::string_view to, const std::string& data_json) {
  const auto org = organization_of(from.organization_id, false);
  if (!org) return false;
  const shared_message message = signal_message(from, data_json);
  std::lock_guard lock(org->mutex);
  // A connection that was replaced or removed a moment ago no longer speaks for its address.
  const auto sender = org->peers.find(from.virtual_ip);
  if (sender == org->peers.end() || sender->second.peer.connection_id != from.connection_id) return false;
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
  if (auto connection = target->second.connection.lock()) {
    connection->deliver(message);
  } else {
    bus_.publish(event{event::kind::signal, event::cause::left, from, target->first, message->text});
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

void hub::disconnect(domain::id organization_id, std::span<const domain::ipv4> addresses) {
  const auto org = organization_of(organization_id, false);
  if (!org) return;
  std::vector<std::shared_ptr<peer_connection>> removed;
  {
    std::lock_guard lock(org->mutex);
    for (const domain::ipv4 address : addresses) {
      const auto held = org->peers.find(address);
      if (held == org->peers.end()) continue;
      event offline{event::kind::offline, event::cause::removed, held->second.peer, 0, {}};
      if (auto connection = take_offline(*org, held)) removed.push_back(std::move(connection));
      bus_.publish(offline);
    }
  }
  for (const auto& connection : removed) connection->disconnect(close_reason::removed);
}

std::size_t hub::online_count() const {
  std::vector<std::shared_ptr<organization>> all;
  {
    std::lock_guard lock(organizations_mutex_);
    for (const auto& [id, org] : organizations_) all.push_back(org);
  }
  std::size_t count = 0;
  for (const auto& org : all) {
    std::lock_guard lock(org->mutex);
    count += org->peers.size();
  }
  return count;
}

void hub::apply_remote(const presence_event& e) {
  const auto org = organization_of(e.peer.organization_id, e.what == event::kind::online);
  if (!org) return;
  std::shared_ptr<peer_connection> to_close;
  {
    std::lock_guard lock(org->mutex);
    const domain::ipv4 address = e.what == event::kind::signal ? e.target : e.peer.virtual_ip;
    const auto held = org->peers.find(address);
    const bool same_registration = held != org->peers.end() && held->second.peer.connection_id == e.peer.connection_id;
    switch (e.what) {
      case event::kind::online: {
        if (held != org->peers.end()) to_close = take_offline(*org, held);
        entry& added = org->peers[address];
        added = entry{e.peer, peer_json(e.peer), {}};
        broadcast(*org, address, peer_online_message(added.json));
        break;
      }
      case event::kind::offline:
        if (same_registration) {
          auto connection = take_offline(*org, held);
          if (e.why != event::cause::left) to_close = std::move(connection);
        }
        break;
      case event::kind::update:
        if (same_registration) {
          held->second.peer.reachable = e.peer.reachable;
          held->second.json = peer_json(held->second.peer);
          broadcast(*org, address, peer_update_message(held->second.json));
        }
        break;
      case event::kind::signal:
        if (held != org->peers.end())
          if (auto connection = held->second.connection.lock()) connection->deliver(relayed_signal_message(e.payload));
        break;
    }
  }
  if (to_close) to_close->disconnect(e.what == event::kind::online ? close_reason::replaced : close_reason_of(e.why));
}

}  // namespace sig::signaling
