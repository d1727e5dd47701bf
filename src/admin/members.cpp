// `signaling-server members list|remove|set-role`: as the organization's owner would through the
// REST API, so that the same rules hold (the owner cannot be removed or demoted).
#include "admin/command_set.hpp"
#include "admin/output.hpp"
#include "admin/records.hpp"

#include <ostream>

namespace sig::admin {
namespace {

namespace json = boost::json;

struct member_arguments {
  domain::id organization_id = 0;
  std::string user;
  std::string role;
};

void add_member_arguments(CLI::App* command, member_arguments& arguments) {
  command->add_option("organization", arguments.organization_id, "Organization id")->required();
  command->add_option("user", arguments.user, "User id or email")->required();
}

}  // namespace

void add_member_commands(command_set& commands) {
  CLI::App* members = commands.group("members", "Members of an organization: list, remove, set-role");

  auto listed = std::make_shared<domain::id>(0);
  commands
      .command(members, "list", "Members of an organization",
               [listed](admin_context& c) {
                 const auto db = c.open_database();
                 if (!find_organization(*db, *listed, c.err)) return 1;
                 json::array rows;
                 for (const auto& m : db->members(*listed)) rows.push_back(member_record(m));
                 print_rows(c.out, rows, c.json);
                 return 0;
               })
      ->add_option("organization", *listed, "Organization id")
      ->required();

  auto removed = std::make_shared<member_arguments>();
  add_member_arguments(
      commands.command(members, "remove", "Remove a member and release their addresses",
                       [removed](admin_context& c) {
                         const auto db = c.open_database();
                         const auto organization = find_organization(*db, removed->organization_id, c.err);
                         const auto user = organization ? find_user(*db, removed->user, c.err) : std::nullopt;
                         if (!user) return 1;
                         const auto done = db->remove_member(
                             {organization->organization_id, organization->owner_id, user->user_id, true});
                         if (!done) return refused(c.err, done.error());
                         print_record(c.out,
                                      {{"organization_id", organization->organization_id},
                                       {"removed_user", user->user_id},
                                       {"released_addresses", done->released.size()}},
                                      c.json);
                         return 0;
                       }),
      *removed);

  auto changed = std::make_shared<member_arguments>();
  CLI::App* set_role =
      commands.command(members, "set-role", "Make a member an admin or a plain member", [changed](admin_context& c) {
        const auto db = c.open_database();
        const auto organization = find_organization(*db, changed->organization_id, c.err);
        const auto user = organization ? find_user(*db, changed->user, c.err) : std::nullopt;
        if (!user) return 1;
        const auto role = domain::parse_role(changed->role);
        const auto done =
            db->set_role({organization->organization_id, organization->owner_id, user->user_id, role.value()});
        if (!done) return refused(c.err, done.error());
        print_rows(c.out, json::array{member_record(*done)}, c.json);
        return 0;
      });
  add_member_arguments(set_role, *changed);
  set_role->add_option("role", changed->role, "admin or member")->required()->check(CLI::IsMember({"admin", "member"}));
}

}  // namespace sig::admin
