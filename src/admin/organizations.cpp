// `signaling-server orgs list|show|delete`.
#include "admin/command_set.hpp"
#include "admin/output.hpp"
#include "admin/records.hpp"

#include <ostream>

namespace sig::admin {
namespace {

namespace json = boost::json;

}  // namespace

void add_organization_commands(command_set& commands) {
  CLI::App* orgs = commands.group("orgs", "Organizations: list, show, delete");

  commands.command(orgs, "list", "Every organization, with its numbers of members and addresses", [](admin_context& c) {
    const auto db = c.open_database();
    json::array rows;
    for (const auto& o : db->all_organizations()) {
      json::object row = organization_record(o);
      row["members"] = db->members(o.organization_id).size();
      row["addresses"] = db->allocations(o.organization_id).size();
      rows.push_back(std::move(row));
    }
    print_rows(c.out, rows, c.json);
    return 0;
  });

  auto shown = std::make_shared<domain::id>(0);
  commands
      .command(orgs, "show", "One organization, with its members and addresses",
               [shown](admin_context& c) {
                 const auto db = c.open_database();
                 const auto organization = find_organization(*db, *shown, c.err);
                 if (!organization) return 1;
                 json::object record = organization_record(*organization);
                 json::array members;
                 for (const auto& m : db->members(*shown)) members.push_back(member_record(m));
                 record["members"] = std::move(members);
                 json::array addresses;
                 for (const auto& a : db->allocations(*shown)) addresses.push_back(allocation_record(a));
                 record["addresses"] = std::move(addresses);
                 print_record(c.out, record, c.json);
                 return 0;
               })
      ->add_option("organization", *shown, "Organization id")
      ->required();

  auto deleted = std::make_shared<domain::id>(0);
  commands
      .command(orgs, "delete", "Delete an organization with its members, addresses and invites",
               [deleted](admin_context& c) {
                 const auto db = c.open_database();
                 const auto done = db->delete_organization(*deleted);
                 if (!done) return refused(c.err, done.error());
                 print_record(c.out,
                              {{"deleted_organization", *deleted}, {"released_addresses", done->released.size()}},
                              c.json);
                 return 0;
               })
      ->add_option("organization", *deleted, "Organization id")
      ->required();
}

}  // namespace sig::admin
