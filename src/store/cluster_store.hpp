// What several server processes share through the database (PROTOCOL.md §7): the presence table
// (the truth about who is online), the processes table with its heartbeats, notifications between
// processes, and settings every process must agree on. PostgreSQL implements it; a store that
// serves a single process (SQLite) has none.
//
// Blocking, like the store. The presence writes of one process go through one connection, its
// publisher (publish, reap, heartbeat, leave_cluster: call them from one thread), so that NOTIFY,
// which serializes commits across the whole database instance, never slows the transactions of
// REST requests down.
#pragma once

#include "core/error.hpp"
#include "domain/presence.hpp"
#include "store/store.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sig::store {

/// A registration to write into the presence table: resolved like find_registration_target, then
/// a row with a new epoch replaces whatever row the address had.
struct presence_claim {
  id user_id = 0;
  std::optional<id> organization_id;
  std::optional<std::string> agent_id;
  /// peer_id, agent_id, endpoints, connection_id and process; the rest comes from the database.
  domain::peer_info peer;
};

/// A claim that succeeded: where it landed, and the registration as the others will see it.
struct claimed_presence {
  registration_target target;
  domain::peer_info peer;  // with its organization, virtual IP, email and epoch
};

/// A message for the processes listening on `channel`. Payloads of any length: those too long for
/// NOTIFY travel through a table (the listener reads them back transparently).
struct notification {
  std::string channel;
  std::string payload;
};

/// What one process's publisher writes in one transaction, in this order.
struct presence_batch {
  std::vector<presence_claim> claims;
  std::vector<domain::peer_info> ended;    // rows to delete: (organization, virtual IP, epoch)
  std::vector<domain::peer_info> updated;  // new endpoints for (organization, virtual IP, epoch)
};

/// Composes the notifications of a batch once its claims are decided (the new epochs go in them).
using claim_announcer = std::function<std::vector<notification>(std::span<const result<claimed_presence>>)>;
/// Composes the notifications of rows that were deleted (dead processes, a process leaving).
using removal_announcer = std::function<std::vector<notification>(std::span<const domain::peer_info>)>;

/// One LISTEN connection. Not thread-safe.
class notification_listener {
 public:
  virtual ~notification_listener() = default;
  /// What arrived, waiting up to `timeout` for the first. Throws store_unavailable when the
  /// connection is lost (notifications sent meanwhile are lost too: reconcile).
  virtual std::vector<notification> wait(std::chrono::milliseconds timeout) = 0;
  /// Every row of the presence table, as of one snapshot.
  virtual std::vector<domain::peer_info> presence_snapshot() = 0;
  /// Number and sum of epochs of the rows of other processes (compare with hub::remote_checksum).
  virtual std::pair<std::size_t, std::int64_t> presence_checksum(domain::process_id self) = 0;
};

class cluster_store {
 public:
  virtual ~cluster_store() = default;

  /// Prefix of this cluster's channel names: one cluster per database schema.
  virtual std::string channel_prefix() = 0;
  /// A LISTEN connection on `channels`. Throws store_unavailable.
  virtual std::unique_ptr<notification_listener> listen(const std::vector<std::string>& channels) = 0;

  /// A new row in the processes table: this process's id in the cluster.
  virtual domain::process_id join_cluster(std::string_view name) = 0;
  /// Shows this process is alive. False when its row was gone (the others declared it dead and
  /// announced its peers offline): the row is back, but its registrations are not.
  virtual bool heartbeat(domain::process_id self, std::string_view name) = 0;
  /// One transaction: deletes the processes silent for longer than `dead_after` (never `self`)
  /// and their presence rows, sends what `announce` composes from those rows, and drops stashed
  /// notification payloads older than a minute. Several processes may reap at once: each row is
  /// deleted, and announced, by one of them. Returns the rows.
  virtual std::vector<domain::peer_info> reap(domain::process_id self, std::chrono::milliseconds dead_after,
                                              const removal_announcer& announce) = 0;
  /// One transaction: the batch, then `announce(outcomes of the claims)` sent. Returns the
  /// outcome of each claim (errc::not_a_member, address_not_found). Nothing stays when it throws.
  virtual std::vector<result<claimed_presence>> publish(const presence_batch& batch,
                                                        const claim_announcer& announce) = 0;
  /// Shutdown: deletes this process's presence rows (announced) and its process row.
  virtual void leave_cluster(domain::process_id self, const removal_announcer& announce) = 0;

  /// The online peers of an organization by virtual IP, from the table: what every process sees.
  virtual std::vector<domain::peer_info> online_peers(id organization_id) = 0;

  /// The value of a setting that every process must share; `proposed` becomes it when there is
  /// none yet (the first process to ask wins).
  virtual std::string shared_setting(std::string_view name, std::string_view proposed) = 0;
  /// Sets a shared setting to `value` (signaling-server secret rotate).
  virtual void replace_shared_setting(std::string_view name, std::string_view value) = 0;
};

}  // namespace sig::store
