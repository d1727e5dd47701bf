// Registration and dispatch of the administration commands; see command_set.hpp.
#include "admin/command_set.hpp"

#include <ostream>

namespace sig::admin {

command_set::command_set(CLI::App& root) : root_(root) {
  root_.add_flag("--json", json_, "Administration commands: print JSON instead of a table");
  root_.require_subcommand(0, 1);
}

CLI::App* command_set::group(const std::string& name, const std::string& description) {
  CLI::App* sub = root_.add_subcommand(name, description);
  sub->require_subcommand(1);
  sub->fallthrough();  // --json and the settings may follow the command
  return sub;
}

CLI::App* command_set::command(CLI::App* parent, const std::string& name, const std::string& description,
                               command_action action) {
  CLI::App* sub = parent->add_subcommand(name, description);
  sub->fallthrough();
  commands_.emplace_back(sub, std::move(action));
  return sub;
}

bool command_set::selected() const { return !root_.get_subcommands().empty(); }

int command_set::run_selected(admin_context& context) const {
  context.json = json_;
  for (const auto& [sub, action] : commands_)
    if (sub->parsed()) return action(context);
  context.err << "no command given (see --help)\n";
  return 2;
}

}  // namespace sig::admin
