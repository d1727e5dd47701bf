// PostgreSQL store: what the processes of a cluster share (cluster_store.hpp): the presence
// table, the processes table, notifications and shared settings. The writes go through the
// publisher connection, one transaction per batch, notifications included.
#include "store/postgres/pg_listener.hpp"
#include "store/postgres/pg_records.hpp"
#include "store/postgres/pg_store.hpp"

namespace sig::store::postgres {

using namespace records;

namespace {

// NOTIFY takes payloads shorter than 8000 bytes; longer ones go through cluster_messages.
constexpr std::size_t notify_payload_max = 7900;

const std::string presence_select = "SELECT " + presence_columns + " FROM presence p JOIN users u ON u.id = p.user_id ";

// Sends the notifications in order, within the caller's transaction: they are delivered when it
// commits, and not at all if it rolls back.
void send(pg_connection& db, std::span<const notification> notifications) {
  if (notifications.empty()) return;
  std::vector<std::string> channels, payloads;
  for (const notification& n : notifications) {
    channels.push_back(n.channel);
    if (n.payload.size() <= notify_payload_max && !n.payload.starts_with(stashed_marker)) {
      payloads.push_back(n.payload);
      continue;
    }
    const pg_rows stashed =
        db.run("INSERT INTO cluster_messages (payload) VALUES ($1) RETURNING id", pg_params(n.payload));
    payloads.push_back(std::string(stashed_marker) + stashed.string(0, 0));
  }
  db.run("SELECT pg_notify(n.channel, n.payload) FROM unnest($1::text[], $2::text[]) AS n(channel, payload)",
         pg_params(text_array(channels), text_array(payloads)));
}

// The claim of a registration: the same choice as find_registration_target (pg_addresses.cpp),
// the chosen allocation locked against a concurrent removal (which waits for this transaction,
// then deletes the row written here), and the address's row replaced with a new epoch. An
// epoch taken after waiting for the row lock is larger than the epoch of the row it replaces, so
// the row left is always the one with the largest epoch.
const std::string claim_sql =
    "WITH chosen AS ("
    " SELECT " +
    columns::registration +
    ", a.id AS allocation_id"
    " FROM allocations a JOIN users u ON u.id = a.user_id JOIN organizations o ON o.id = a.organization_id"
    " WHERE a.user_id = $1 AND ($2::bigint IS NULL OR a.organization_id = $2) AND (a.agent_id = $3 OR a.agent_id = '')"
    " ORDER BY a.agent_id = '', a.id LIMIT 1 FOR KEY SHARE OF a),"
    " claimed AS ("
    " INSERT INTO presence (organization_id, virtual_ip, allocation_id, user_id, epoch, process_id, connection_id,"
    " peer_id, agent_id, public_ip, public_port, relay_ip, relay_port, since)"
    " SELECT organization_id, address, allocation_id, user_id, nextval('presence_epochs'), $4, $5, $6, $7, $8, $9,"
    " $10, $11, $12 FROM chosen"
    " ON CONFLICT (organization_id, virtual_ip) DO UPDATE SET allocation_id = EXCLUDED.allocation_id,"
    " user_id = EXCLUDED.user_id, epoch = nextval('presence_epochs'), process_id = EXCLUDED.process_id,"
    " connection_id = EXCLUDED.connection_id, peer_id = EXCLUDED.peer_id, agent_id = EXCLUDED.agent_id,"
    " public_ip = EXCLUDED.public_ip, public_port = EXCLUDED.public_port, relay_ip = EXCLUDED.relay_ip,"
    " relay_port = EXCLUDED.relay_port, since = EXCLUDED.since"
    " RETURNING epoch)"
    " SELECT chosen.*, claimed.epoch FROM chosen, claimed";

pg_params claim_params(const presence_claim& c, unix_micros now) {
  const domain::endpoints& at = c.peer.reachable;
  std::optional<std::int64_t> relay_port;
  if (at.relay_port) relay_port = *at.relay_port;
  return pg_params(c.user_id, c.organization_id, c.agent_id.value_or(""), c.peer.process, c.peer.connection_id,
                   c.peer.peer_id, c.peer.agent_id, at.public_ip, std::int64_t{at.public_port}, at.relay_ip, relay_port,
                   now);
}

result<claimed_presence> claimed_from(pg_connection& db, const pg_rows& rows, const presence_claim& c) {
  if (rows.empty()) {
    if (db.run("SELECT 1 FROM memberships WHERE user_id = $1 AND ($2::bigint IS NULL OR organization_id = $2)",
               pg_params(c.user_id, c.organization_id))
            .empty())
      return fail(errc::not_a_member);
    return fail(errc::address_not_found);
  }
  claimed_presence claimed{registration_at(rows, 0), c.peer};
  claimed.peer.organization_id = claimed.target.organization.organization_id;
  claimed.peer.virtual_ip = claimed.target.allocation.address;
  claimed.peer.user_id = claimed.target.allocation.user_id;
  claimed.peer.email = claimed.target.allocation.email;
  claimed.peer.registration = rows.int64(0, 14);
  return claimed;
}

// The claims of a batch, sent a few dozen at a time in one round trip (see run_each): few enough
// that neither side's socket buffer fills while the other still writes.
std::vector<result<claimed_presence>> claim_all(pg_connection& db, std::span<const presence_claim> claims,
                                                unix_micros now) {
  constexpr std::size_t per_round_trip = 64;
  std::vector<result<claimed_presence>> outcomes;
  for (std::size_t first = 0; first < claims.size(); first += per_round_trip) {
    const auto some = claims.subspan(first, std::min(per_round_trip, claims.size() - first));
    std::vector<pg_params> each;
    for (const presence_claim& c : some) each.push_back(claim_params(c, now));
    const auto rows = db.run_each(claim_sql, each);
    for (std::size_t i = 0; i < some.size(); ++i) outcomes.push_back(claimed_from(db, rows[i], some[i]));
  }
  return outcomes;
}

std::vector<domain::peer_info> delete_rows_of(pg_connection& db, std::string_view where, const pg_params& params) {
  const std::string sql = "DELETE FROM presence p USING users u WHERE u.id = p.user_id AND " + std::string(where) +
                          " RETURNING " + presence_columns;
  return all_rows(db, sql, params, presence_at);
}

}  // namespace

std::string pg_store::channel_prefix() {
  return pool_.read(
      [](pg_connection& db) { return db.run("SELECT 'sig_' || left(md5(current_schema()), 12)").string(0, 0); });
}

std::unique_ptr<notification_listener> pg_store::listen(const std::vector<std::string>& channels) {
  return std::make_unique<pg_listener>(pool_.conninfo(), channels);
}

domain::process_id pg_store::join_cluster(std::string_view name) {
  return publisher_.transact([&](pg_connection& db) {
    return db.run("INSERT INTO processes (name) VALUES ($1) RETURNING id", pg_params(name)).int64(0, 0);
  });
}

bool pg_store::heartbeat(domain::process_id self, std::string_view name) {
  return publisher_.transact([&](pg_connection& db) {
    if (db.run("UPDATE processes SET heartbeat_at = now() WHERE id = $1", pg_params(self)).affected() > 0) return true;
    db.run("INSERT INTO processes (id, name) VALUES ($1, $2)", pg_params(self, name));
    return false;
  });
}

std::vector<domain::peer_info> pg_store::reap(domain::process_id self, std::chrono::milliseconds dead_after,
                                              const removal_announcer& announce) {
  return publisher_.transact([&](pg_connection& db) {
    db.run("DELETE FROM cluster_messages WHERE created_at < now() - interval '1 minute'");
    const pg_rows dead = db.run(
        "DELETE FROM processes WHERE id <> $1 AND heartbeat_at < now() - make_interval(secs => $2::double precision / "
        "1000)"
        " RETURNING id",
        pg_params(self, std::int64_t{dead_after.count()}));
    std::vector<domain::peer_info> rows;
    if (dead.empty()) return rows;
    std::vector<std::int64_t> ids;
    for (int i = 0; i < dead.size(); ++i) ids.push_back(dead.int64(i, 0));
    rows = delete_rows_of(db, "p.process_id = ANY($1::bigint[])", pg_params(int64_array(ids)));
    send(db, announce(rows));
    return rows;
  });
}

std::vector<result<claimed_presence>> pg_store::publish(const presence_batch& batch, const claim_announcer& announce) {
  return publisher_.transact([&](pg_connection& db) {
    auto outcomes = claim_all(db, batch.claims, now_micros());
    if (!batch.ended.empty()) {
      std::vector<std::int64_t> organizations, addresses, epochs;
      for (const auto& p : batch.ended) {
        organizations.push_back(p.organization_id);
        addresses.push_back(p.virtual_ip);
        epochs.push_back(p.registration);
      }
      db.run(
          "DELETE FROM presence WHERE (organization_id, virtual_ip, epoch) IN"
          " (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]))",
          pg_params(int64_array(organizations), int64_array(addresses), int64_array(epochs)));
    }
    for (const auto& p : batch.updated) {
      const domain::endpoints& at = p.reachable;
      std::optional<std::int64_t> relay_port;
      if (at.relay_port) relay_port = *at.relay_port;
      db.run(
          "UPDATE presence SET public_ip = $4, public_port = $5, relay_ip = $6, relay_port = $7"
          " WHERE organization_id = $1 AND virtual_ip = $2 AND epoch = $3",
          pg_params(p.organization_id, p.virtual_ip, p.registration, at.public_ip, std::int64_t{at.public_port},
                    at.relay_ip, relay_port));
    }
    send(db, announce(outcomes));
    return outcomes;
  });
}

void pg_store::leave_cluster(domain::process_id self, const removal_announcer& announce) {
  publisher_.transact([&](pg_connection& db) {
    const auto rows = delete_rows_of(db, "p.process_id = $1", pg_params(self));
    send(db, announce(rows));
    db.run("DELETE FROM processes WHERE id = $1", pg_params(self));
    return true;
  });
}

std::vector<domain::peer_info> pg_store::online_peers(id organization_id) {
  static const std::string sql = presence_select + "WHERE p.organization_id = $1 ORDER BY p.virtual_ip";
  return pool_.read([&](pg_connection& db) { return all_rows(db, sql, pg_params(organization_id), presence_at); });
}

std::string pg_store::shared_setting(std::string_view name, std::string_view proposed) {
  return pool_.transact([&](pg_connection& db) {
    db.run("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
           pg_params(name, proposed));
    return db.run("SELECT value FROM settings WHERE name = $1", pg_params(name)).string(0, 0);
  });
}

void pg_store::replace_shared_setting(std::string_view name, std::string_view value) {
  pool_.transact([&](pg_connection& db) {
    db.run("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = $2",
           pg_params(name, value));
    return true;
  });
}

}  // namespace sig::store::postgres
