// The publisher of a cluster process; see publisher.hpp.
#include "cluster/publisher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <map>

namespace sig::cluster {
namespace {

using event = signaling::presence_event;
using clock = std::chrono::steady_clock;

long long millis_between(clock::time_point from, clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

// Below what the store carries in NOTIFY itself (longer payloads go through a table).
constexpr std::size_t payload_bytes = 7800;
constexpr auto first_retry = std::chrono::milliseconds(100);
constexpr auto last_retry = std::chrono::milliseconds(2000);

event offline_event(const domain::peer_info& peer, event::cause why) {
  return event{event::kind::offline, why, peer, 0, 0, {}};
}

}  // namespace

publisher::publisher(store::cluster_store& db, signaling::hub& hub, telemetry::metrics& metrics,
                     const cluster_config& config, domain::process_id self, channels names)
    : db_(db),
      hub_(hub),
      metrics_(metrics),
      config_(config),
      self_(self),
      names_(std::move(names)),
      packer_(self, payload_bytes) {}

publisher::~publisher() { stop(std::chrono::milliseconds(0)); }

void publisher::start(std::function<void()> on_declared_dead) {
  on_declared_dead_ = std::move(on_declared_dead);
  reliable_since_ = clock::now();
  thread_ = std::thread([this] { run(); });
}

void publisher::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      stop_by_ = clock::now() + grace;
    }
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void publisher::enqueue(const signaling::presence_event& e) {
  // Online events were announced by the transaction that claimed the registration.
  if (e.what == event::kind::online) return;
  {
    std::lock_guard lock(mutex_);
    if (e.what == event::kind::signal && queued_.events.size() >= config_.queue_limit) {
      spdlog::warn("cluster: {} presence events wait for the database: dropping a signal", queued_.events.size());
      return;
    }
    queued_.events.push_back(e);
  }
  wake_.notify_one();
}

void publisher::enqueue(registration r) {
  {
    std::lock_guard lock(mutex_);
    queued_.registrations.push_back(std::move(r));
  }
  wake_.notify_one();
}

void publisher::run() {
  next_heartbeat_ = clock::now();
  auto next_reap = clock::now() + config_.reap_every();
  auto retry_at = clock::time_point::min();
  auto retry_delay = first_retry;
  for (;;) {
    batch work;
    {
      std::unique_lock lock(mutex_);
      // Registrations go at once; other events wait out a retry delay after a failure.
      const auto has_work = [&] {
        return !queued_.registrations.empty() || (!queued_.events.empty() && clock::now() >= retry_at);
      };
      const auto idle = [&] { return queued_.registrations.empty() && queued_.events.empty(); };
      const auto done = [&] { return stopping_ && (idle() || clock::now() >= stop_by_); };
      auto deadline = std::min(next_heartbeat_, next_reap);
      if (!queued_.events.empty() && retry_at > clock::now()) deadline = std::min(deadline, retry_at);
      if (stopping_) deadline = std::min(deadline, stop_by_);
      wake_.wait_until(lock, deadline, [&] { return done() || has_work(); });
      if (done()) break;
      if (has_work()) take_queued(work);
    }
    if (!work.registrations.empty() || !work.events.empty()) {
      if (publish(work)) {
        retry_delay = first_retry;
      } else {
        std::lock_guard lock(mutex_);
        queued_.events.insert(queued_.events.begin(), work.events.begin(), work.events.end());
        retry_at = clock::now() + retry_delay;
        retry_delay = std::min(retry_delay * 2, std::chrono::duration_cast<std::chrono::milliseconds>(last_retry));
      }
    }
    if (heartbeat_when_due() == liveness::declared_dead) declared_dead();
    const auto now = clock::now();
    if (now >= next_reap) {
      reap();
      next_reap = now + config_.reap_every();
    }
  }
  try {
    db_.leave_cluster(self_, [&](std::span<const domain::peer_info> rows) {
      std::vector<event> offline;
      for (const auto& p : rows) offline.push_back(offline_event(p, event::cause::left));
      std::vector<store::notification> out;
      for (auto& payload : packer_.pack(offline)) out.push_back({names_.presence(), std::move(payload)});
      return out;
    });
  } catch (const std::exception& e) {
    spdlog::warn("cluster: could not leave the cluster cleanly ({}); the others will declare this process dead",
                 e.what());
  }
}

void publisher::take_queued(batch& work) {
  std::swap(work.events, queued_.events);
  auto& waiting = queued_.registrations;
  if (waiting.size() <= registrations_per_batch) {
    std::swap(work.registrations, waiting);
    return;
  }
  const auto taken = waiting.begin() + registrations_per_batch;
  work.registrations.assign(std::make_move_iterator(waiting.begin()), std::make_move_iterator(taken));
  waiting.erase(waiting.begin(), taken);
}

bool publisher::publish(batch& work) {
  store::presence_batch writes;
  for (const registration& r : work.registrations) writes.claims.push_back(r.claim);
  std::map<std::pair<domain::id, domain::ipv4>, domain::peer_info> updated;  // the last one of each registration
  for (const event& e : work.events) {
    if (e.what == event::kind::offline) writes.ended.push_back(e.peer);
    if (e.what == event::kind::update) updated[{e.peer.organization_id, e.peer.virtual_ip}] = e.peer;
  }
  for (auto& [key, peer] : updated) writes.updated.push_back(std::move(peer));
  try {
    std::size_t notifications = 0;
    auto outcomes = db_.publish(writes, [&](std::span<const result<store::claimed_presence>> claims) {
      auto composed = notifications_of(claims, work.events);
      notifications = composed.size();
      return composed;
    });
    metrics_.cluster_batch_published(notifications);
    if (!healthy_.exchange(true)) spdlog::info("cluster: the database takes this process's presence writes again");
    join_claimed(work, outcomes);
    return true;
  } catch (const store::store_unavailable& e) {
    metrics_.cluster_publish_failed();
    if (healthy_.exchange(false)) spdlog::warn("cluster: cannot write presence ({}); retrying", e.what());
    reliable_since_ = clock::now();
    for (registration& r : work.registrations) r.done(fail(errc::overloaded));
    work.registrations.clear();
    return false;
  } catch (const std::exception& e) {
    // A batch the database refuses for good would block every later one: it is dropped, and the
    // other processes' views are corrected by their next reconciliation.
    metrics_.cluster_publish_failed();
    spdlog::error("cluster: dropping a presence batch the database refused: {}", e.what());
    for (registration& r : work.registrations) r.done(fail(errc::internal));
    return true;
  }
}

std::vector<store::notification> publisher::notifications_of(std::span<const result<store::claimed_presence>> claims,
                                                             std::span<const signaling::presence_event> events) {
  // One listener connection receives both channels in the order they were sent: events keep
  // their order (a signal sent before an update arrives before it) when consecutive events of one
  // channel share a payload.
  std::vector<std::pair<std::string, event>> addressed;
  for (const auto& claimed : claims)
    if (claimed)
      addressed.emplace_back(names_.presence(),
                             event{event::kind::online, event::cause::left, claimed->peer, 0, 0, {}});
  for (const event& e : events) {
    if (e.what == event::kind::online) continue;
    addressed.emplace_back(e.what == event::kind::signal ? names_.process(e.target_process) : names_.presence(), e);
  }
  std::vector<store::notification> out;
  for (std::size_t first = 0; first < addressed.size();) {
    std::size_t last = first;
    std::vector<event> run;
    while (last < addressed.size() && addressed[last].first == addressed[first].first)
      run.push_back(addressed[last++].second);
    for (auto& payload : packer_.pack(run)) out.push_back({addressed[first].first, std::move(payload)});
    first = last;
  }
  return out;
}

void publisher::join_claimed(batch& work, std::vector<result<store::claimed_presence>>& outcomes) {
  // A join in a large organization costs milliseconds (its answer lists every peer, every peer is
  // told), far more on a machine short of CPU: the heartbeat goes on between joins. Should it find
  // this process declared dead, the agents are closed after the batch, this batch's included.
  bool dead = false;
  for (std::size_t i = 0; i < work.registrations.size(); ++i) {
    if (heartbeat_when_due() == liveness::declared_dead) dead = true;
    registration& r = work.registrations[i];
    const auto& claimed = outcomes.at(i);
    if (!claimed) {
      r.done(std::unexpected(claimed.error()));
      continue;
    }
    const auto epoch = hub_.join(r.connection, claimed->peer, claimed->target.organization.subnet,
                                 claimed->peer.registration, r.ice_servers_json);
    r.done(epoch ? std::optional<domain::peer_info>(claimed->peer) : std::nullopt);
  }
  if (dead) declared_dead();
}

publisher::liveness publisher::heartbeat_when_due() {
  const auto now = clock::now();
  if (now < next_heartbeat_) return liveness::alive;
  // The others declare this process dead when it is silent for 80 % of dead_after: say so when a
  // heartbeat comes late.
  if (now - next_heartbeat_ > config_.heartbeat_every())
    spdlog::warn("cluster: heartbeat {} ms late (the publisher's thread was busy or short of CPU)",
                 millis_between(next_heartbeat_, now));
  next_heartbeat_ = now + config_.heartbeat_every();
  try {
    const bool alive = db_.heartbeat(self_, config_.process_name);
    if (!healthy_.exchange(true)) spdlog::info("cluster: the database takes this process's writes again");
    return alive ? liveness::alive : liveness::declared_dead;
  } catch (const store::store_unavailable& e) {
    if (healthy_.exchange(false)) spdlog::warn("cluster: heartbeat failed ({})", e.what());
    reliable_since_ = clock::now();
    return liveness::alive;  // as far as this process can tell
  }
}

void publisher::declared_dead() {
  spdlog::warn(
      "cluster: the other processes declared this one dead and announced its peers offline; closing its agents' "
      "connections so that they register again");
  hub_.drop_local(signaling::close_reason::presence_lost);
  if (on_declared_dead_) on_declared_dead_();
}

void publisher::reap() {
  // After this process could not write, the others may not have been able to heartbeat either:
  // give them the time to before judging them.
  if (clock::now() - reliable_since_ < config_.dead_after) return;
  try {
    const auto reaped = db_.reap(self_, config_.declared_dead_after(), [&](std::span<const domain::peer_info> rows) {
      std::vector<event> offline;
      for (const auto& p : rows) offline.push_back(offline_event(p, event::cause::lost));
      std::vector<store::notification> out;
      for (auto& payload : packer_.pack(offline)) out.push_back({names_.presence(), std::move(payload)});
      return out;
    });
    // This process does not hear its own notifications: it applies them itself.
    for (const auto& p : reaped) hub_.apply_remote(offline_event(p, event::cause::lost));
    metrics_.cluster_peers_reaped(reaped.size());
    if (!reaped.empty()) spdlog::info("cluster: {} peers of dead processes announced offline", reaped.size());
  } catch (const store::store_unavailable& e) {
    if (healthy_.exchange(false)) spdlog::warn("cluster: reaping failed ({})", e.what());
    reliable_since_ = clock::now();
  }
}

}  // namespace sig::cluster
