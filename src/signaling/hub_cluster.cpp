// The signaling hub: what other server processes did (their notifications), and reconciliation
// with the presence table after this process could not listen for a while. See hub.hpp.
#include "signaling/hub.hpp"

#include <map>
#include <vector>

namespace sig::signaling {
namespace {

using event = presence_event;

close_reason close_reason_of(event::cause why) {
  switch (why) {
    case event::cause::replaced: return close_reason::replaced;
    case event::cause::removed: return close_reason::removed;
    case event::cause::left:
    case event::cause::lost: break;
  }
  return close_reason::presence_lost;
}

}  // namespace

std::shared_ptr<peer_connection> hub::put_remote(organization& org, const peer_info& peer) {
  std::shared_ptr<peer_connection> replaced;
  if (const auto held = org.peers.find(peer.virtual_ip); held != org.peers.end()) replaced = take_offline(org, held);
  entry& added = org.peers[peer.virtual_ip];
  added = entry{peer, peer_json(peer), {}, false, 0};
  broadcast(org, peer.virtual_ip, peer_online_message(added.json));
  return replaced;
}

void hub::apply_remote(const presence_event& e) {
  const auto org = organization_of(e.peer.organization_id, e.what == event::kind::online);
  if (!org) return;
  std::shared_ptr<peer_connection> to_close;
  close_reason reason = close_reason::replaced;
  {
    std::lock_guard lock(org->mutex);
    const domain::ipv4 address = e.what == event::kind::signal ? e.target : e.peer.virtual_ip;
    const auto held = org->peers.find(address);
    switch (e.what) {
      case event::kind::online:
        if (e.peer.registration <= floor_of(*org, address)) break;  // ended before its news arrived
        if (held != org->peers.end() && held->second.peer.registration >= e.peer.registration) break;  // stale
        to_close = put_remote(*org, e.peer);
        break;
      case event::kind::offline:
        to_close = end_up_to(*org, address, e.peer.registration);
        reason = close_reason_of(e.why);
        break;
      case event::kind::update:
        if (held != org->peers.end() && !held->second.local && held->second.peer.registration == e.peer.registration &&
            held->second.peer.reachable != e.peer.reachable) {
          held->second.peer.reachable = e.peer.reachable;
          held->second.json = peer_json(held->second.peer);
          broadcast(*org, address, peer_update_message(held->second.json));
        }
        break;
      case event::kind::signal:
        if (held != org->peers.end() && held->second.local)
          if (auto connection = held->second.connection.lock()) connection->deliver(relayed_signal_message(e.payload));
        break;
    }
  }
  if (to_close) to_close->disconnect(reason);
}

void hub::reconcile(std::span<const peer_info> rows, std::uint64_t mark) {
  std::map<domain::id, std::vector<const peer_info*>> by_organization;
  for (const peer_info& row : rows) by_organization[row.organization_id].push_back(&row);
  for (const auto& [id, org_rows] : by_organization) organization_of(id, true);

  std::vector<std::pair<std::shared_ptr<peer_connection>, close_reason>> to_close;
  for (const auto& [id, org] : all_organizations()) {
    const auto found = by_organization.find(id);
    const std::span<const peer_info* const> org_rows =
        found == by_organization.end() ? std::span<const peer_info* const>() : found->second;
    std::lock_guard lock(org->mutex);
    reconcile_organization(*org, org_rows, mark, to_close);
  }
  for (const auto& [connection, reason] : to_close) connection->disconnect(reason);
}

void hub::reconcile_organization(organization& org, std::span<const peer_info* const> rows, std::uint64_t mark,
                                 std::vector<std::pair<std::shared_ptr<peer_connection>, close_reason>>& to_close) {
  std::map<domain::ipv4, const peer_info*> table;
  for (const peer_info* row : rows) table.emplace(row->virtual_ip, row);

  // What this view holds that the table contradicts.
  for (auto it = org.peers.begin(); it != org.peers.end();) {
    entry& e = it->second;
    const auto row = table.find(it->first);
    const bool same = row != table.end() && row->second->registration == e.peer.registration;
    const auto next = std::next(it);
    if (e.local) {
      // A join newer than the snapshot, or one about to be replaced by a newer join of this
      // process, is not the snapshot's business.
      const bool newer_here =
          row != table.end() && row->second->registration > e.peer.registration && row->second->process == self_;
      if (e.join_sequence > mark || same || newer_here) {
        it = next;
        continue;
      }
      const bool replaced = row != table.end() && row->second->registration > e.peer.registration;
      if (auto connection = take_offline(org, it))
        to_close.emplace_back(std::move(connection), replaced ? close_reason::replaced : close_reason::presence_lost);
    } else if (same) {
      if (e.peer.reachable != row->second->reachable) {
        e.peer.reachable = row->second->reachable;
        e.json = peer_json(e.peer);
        broadcast(org, it->first, peer_update_message(e.json));
      }
    } else if (row == table.end() || row->second->registration > e.peer.registration) {
      take_offline(org, it);  // gone, or replaced (the newer one is added below)
    }
    it = next;
  }

  // What the table holds that this view misses. This process's own rows are its joins and leaves
  // in flight: its sessions decide those.
  for (const auto& [address, row] : table) {
    if (row->process == self_ || org.peers.contains(address)) continue;
    if (row->registration <= floor_of(org, address)) continue;
    if (auto connection = put_remote(org, *row)) to_close.emplace_back(std::move(connection), close_reason::replaced);
  }
}

void hub::drop_local(close_reason reason) {
  std::vector<std::shared_ptr<peer_connection>> dropped;
  for (const auto& [id, org] : all_organizations()) {
    std::lock_guard lock(org->mutex);
    for (auto it = org->peers.begin(); it != org->peers.end();) {
      if (!it->second.local) {
        ++it;
        continue;
      }
      const auto next = std::next(it);
      if (auto connection = take_offline(*org, it)) dropped.push_back(std::move(connection));
      it = next;
    }
  }
  for (const auto& connection : dropped) connection->disconnect(reason);
}

std::pair<std::size_t, std::int64_t> hub::remote_checksum() const {
  std::size_t count = 0;
  std::int64_t sum = 0;
  for (const auto& [id, org] : all_organizations()) {
    std::lock_guard lock(org->mutex);
    for (const auto& [address, e] : org->peers) {
      if (e.local) continue;
      ++count;
      sum += e.peer.registration;
    }
  }
  return {count, sum};
}

}  // namespace sig::signaling
