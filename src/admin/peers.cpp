// `signaling-server peers list`: who is online, from the presence table that the server
// processes of a PostgreSQL cluster share. A SQLite database belongs to its one running server
// (the commands run while it is stopped), which keeps presence in memory.
#include "admin/command_set.hpp"
#include "admin/output.hpp"
#include "admin/records.hpp"
#include "store/cluster_store.hpp"

#include <algorithm>
#include <ostream>

namespace sig::admin {
namespace {

namespace json = boost::json;

}  // namespace

void add_peer_commands(command_set& commands) {
  CLI::App* peers = commands.group("peers", "Online peers: list");

  auto organization = std::make_shared<domain::id>(0);
  commands
      .command(peers, "list", "Online peers (PostgreSQL: every process's), by organization and address",
               [organization](admin_context& c) {
                 const auto db = c.open_database();
                 auto* cluster = db->cluster();
                 if (!cluster) {
                   c.err << "peers list needs the PostgreSQL backend, where presence lives in the database; with "
                            "SQLite it is in the running server's memory: ask the server (GET "
                            "/organizations/{org_id}/peers)\n";
                   return 1;
                 }
                 auto online = cluster->listen({})->presence_snapshot();
                 std::erase_if(online, [&](const domain::peer_info& p) {
                   return *organization != 0 && p.organization_id != *organization;
                 });
                 std::sort(online.begin(), online.end(), [](const auto& a, const auto& b) {
                   return std::tie(a.organization_id, a.virtual_ip) < std::tie(b.organization_id, b.virtual_ip);
                 });
                 json::array rows;
                 for (const auto& peer : online) rows.push_back(peer_record(peer));
                 print_rows(c.out, rows, c.json);
                 return 0;
               })
      ->add_option("--organization", *organization, "Only this organization");
}

}  // namespace sig::admin
