// LISTEN connection; see pg_listener.hpp.
#include "store/postgres/pg_listener.hpp"

#include "store/postgres/pg_records.hpp"
#include "store/store.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <charconv>
#include <memory>

namespace sig::store::postgres {
namespace {

std::string quoted_identifier(pg_conn* conn, const std::string& name) {
  std::unique_ptr<char, decltype(&PQfreemem)> quoted(PQescapeIdentifier(conn, name.data(), name.size()), PQfreemem);
  if (!quoted) throw store_unavailable(std::string("cannot quote a channel name: ") + PQerrorMessage(conn));
  return quoted.get();
}

}  // namespace

pg_listener::pg_listener(const std::string& conninfo, const std::vector<std::string>& channels)
    : connection_(conninfo) {
  for (const std::string& channel : channels)
    connection_.execute("LISTEN " + quoted_identifier(connection_.native(), channel));
}

void pg_listener::collect(std::vector<notification>& arrived) {
  pg_conn* conn = connection_.native();
  while (PGnotify* raw = PQnotifies(conn)) {
    std::unique_ptr<PGnotify, decltype(&PQfreemem)> received(raw, PQfreemem);
    notification n{received->relname, received->extra};
    if (n.payload.starts_with(stashed_marker)) {
      const pg_rows stashed = connection_.run("SELECT payload FROM cluster_messages WHERE id = $1::bigint",
                                              pg_params(std::string_view(n.payload).substr(stashed_marker.size())));
      if (stashed.empty()) continue;  // older than a minute: dropped by a reaper
      n.payload = stashed.string(0, 0);
    }
    arrived.push_back(std::move(n));
  }
}

std::vector<notification> pg_listener::wait(std::chrono::milliseconds timeout) {
  pg_conn* conn = connection_.native();
  std::vector<notification> arrived;
  collect(arrived);
  if (!arrived.empty()) return arrived;
  pollfd watched{PQsocket(conn), POLLIN, 0};
  if (watched.fd < 0) throw store_unavailable("the LISTEN connection is closed");
  const int ready = ::poll(&watched, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) throw store_unavailable("poll on the LISTEN connection failed");
  if (ready > 0) {
    if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK)
      throw store_unavailable(std::string("the LISTEN connection was lost: ") + PQerrorMessage(conn));
    collect(arrived);
  }
  return arrived;
}

std::vector<domain::peer_info> pg_listener::presence_snapshot() {
  static const std::string sql =
      "SELECT " + records::presence_columns + " FROM presence p JOIN users u ON u.id = p.user_id";
  return records::all_rows(connection_, sql, pg_params(), records::presence_at);
}

std::pair<std::size_t, std::int64_t> pg_listener::presence_checksum(domain::process_id self) {
  const pg_rows rows =
      connection_.run("SELECT count(*), COALESCE(sum(epoch), 0) FROM presence WHERE process_id <> $1", pg_params(self));
  return {static_cast<std::size_t>(rows.int64(0, 0)), rows.int64(0, 1)};
}

}  // namespace sig::store::postgres
