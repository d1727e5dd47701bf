// The administration commands (docs/protocol.md, "Administration"): `signaling-server users list`
// and the like, parsed by the same command line as the server's settings, run once against the
// configured database, then the process exits. Each group of commands registers itself here.
#pragma once

#include "auth/password_hasher.hpp"
#include "store/store.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sig::admin {

/// What a command may use, made from the server's configuration once the command line is parsed.
struct admin_context {
  std::function<std::unique_ptr<store::store>()> open_database;  // opens and migrates
  std::function<auth::password_hasher()> make_hasher;
  std::ostream& out;  // the result: a table, or JSON with --json
  std::ostream& err;  // warnings and errors, for a person
  bool json = false;
};

/// Exit status of a command: 0 done, 1 refused or failed (the reason on `err`), 2 bad usage.
using command_action = std::function<int(admin_context&)>;

/// Registers the commands on a parser, and remembers which one the parse selected: the parser
/// itself (load_config's) is gone by the time the command runs.
class command_set {
 public:
  /// Adds --json to `root` (usable after any command). `root` must outlive the registrations only.
  explicit command_set(CLI::App& root);

  /// A group of commands (`users`): needs one of its commands.
  CLI::App* group(const std::string& name, const std::string& description);
  /// A command of `parent`; its options and arguments are added to the returned subcommand.
  CLI::App* command(CLI::App* parent, const std::string& name, const std::string& description, command_action action);

  /// Whether the parsed command line named a command (otherwise: run the server).
  bool selected() const;
  int run_selected(admin_context& context) const;
  bool json() const noexcept { return json_; }

 private:
  CLI::App& root_;  // while the commands are registered
  bool json_ = false;
  std::vector<command_action> commands_;
  std::optional<std::size_t> chosen_;  // set by the parser's callback of the command it parsed
};

/// The commands on the database's content: users, orgs, members, ips, peers.
void add_user_commands(command_set& commands);
void add_organization_commands(command_set& commands);
void add_member_commands(command_set& commands);
void add_address_commands(command_set& commands);
void add_peer_commands(command_set& commands);

}  // namespace sig::admin
