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
  sub->callback([this, index = commands_.size()] { chosen_ = index; });
  commands_.push_back(std::move(action));
  return sub;
}

bool command_set::selected() const { return chosen_.has_value(); }

int command_set::run_selected(admin_context& context) const {
  context.json = json_;
  if (!chosen_) {
    context.err << "no command given (see --help)\n";
    return 2;
  }
  return commands_[*chosen_](context);
}

}  // namespace sig::admin
