// `signaling-server users list|show|delete|set-password`.
#include "admin/command_set.hpp"
#include "admin/output.hpp"
#include "admin/records.hpp"
#include "core/clock.hpp"
#include "domain/validation.hpp"
#include "service/accounts.hpp"

#include <iostream>
#include <ostream>

namespace sig::admin {
namespace {

namespace json = boost::json;

// A password never comes from the command line, where `ps` and the shell history would show it.
std::optional<std::string> read_password(std::istream& in, std::ostream& err) {
  std::string password;
  if (!std::getline(in, password)) {
    err << "no password on standard input\n";
    return std::nullopt;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  const auto valid = domain::validate_password(password);
  if (!valid) {
    err << "password refused: " << valid.error().msg << "\n";
    return std::nullopt;
  }
  return password;
}

}  // namespace

void add_user_commands(command_set& commands) {
  CLI::App* users = commands.group("users", "Users: list, show, delete, set-password");

  commands.command(users, "list", "Every user", [](admin_context& c) {
    json::array rows;
    for (const auto& user : c.open_database()->users()) rows.push_back(user_record(user));
    print_rows(c.out, rows, c.json);
    return 0;
  });

  auto shown = std::make_shared<std::string>();
  commands
      .command(users, "show", "One user, with their organizations and addresses",
               [shown](admin_context& c) {
                 const auto db = c.open_database();
                 const auto user = find_user(*db, *shown, c.err);
                 if (!user) return 1;
                 json::object record = user_record(*user);
                 json::array organizations;
                 for (const auto& o : db->organizations_of(user->user_id)) {
                   json::object row{{"organization_id", o.organization_id}, {"name", o.name}};
                   const auto member = db->find_member(o.organization_id, user->user_id);
                   row["role"] = member ? domain::to_string(member->member_role) : "-";
                   organizations.push_back(std::move(row));
                 }
                 record["organizations"] = std::move(organizations);
                 json::array addresses;
                 for (const auto& a : db->allocations_of(user->user_id)) {
                   json::object row{{"organization_id", a.organization_id}};
                   for (auto& [key, value] : allocation_record(a))
                     if (key != "user_id" && key != "email") row[key] = value;
                   addresses.push_back(std::move(row));
                 }
                 record["addresses"] = std::move(addresses);
                 print_record(c.out, record, c.json);
                 return 0;
               })
      ->add_option("user", *shown, "User id or email")
      ->required();

  auto deleted = std::make_shared<std::string>();
  commands
      .command(users, "delete", "Delete a user who owns no organization, with their memberships, addresses and invites",
               [deleted](admin_context& c) {
                 const auto db = c.open_database();
                 const auto user = find_user(*db, *deleted, c.err);
                 if (!user) return 1;
                 const auto done = db->delete_user(user->user_id);
                 if (!done) return refused(c.err, done.error());
                 print_record(c.out,
                              {{"deleted_user", user->user_id},
                               {"email", user->email},
                               {"released_addresses", done->released.size()}},
                              c.json);
                 return 0;
               })
      ->add_option("user", *deleted, "User id or email")
      ->required();

  auto reset = std::make_shared<std::string>();
  commands
      .command(users, "set-password",
               "Set a user's password, read from standard input (one line); their tokens are revoked",
               [reset](admin_context& c) {
                 const auto db = c.open_database();
                 const auto user = find_user(*db, *reset, c.err);
                 if (!user) return 1;
                 const auto password = read_password(std::cin, c.err);
                 if (!password) return 2;
                 db->update_password_hash(user->user_id, c.make_hasher().hash(*password));
                 service::revoke_tokens(*db, *user);
                 print_record(c.out, {{"user", user->user_id}, {"email", user->email}, {"password", "set"}}, c.json);
                 return 0;
               })
      ->add_option("user", *reset, "User id or email")
      ->required();
}

}  // namespace sig::admin
