// The administration commands in the server's binary (docs/protocol.md, "Administration"): the
// database's content (admin/), and what needs the server's configuration: migrate, config check,
// secret rotate.
#pragma once

#include "admin/command_set.hpp"
#include "app/config.hpp"

#include <memory>

namespace sig::app {

class administration {
 public:
  /// Adds every command to the command line, before it is parsed.
  void attach(CLI::App& cli);
  /// Whether the parsed command line named one (otherwise: serve).
  bool selected() const { return commands_ && commands_->selected(); }
  /// Runs it; the process's exit status.
  int run(const server_config& config);

 private:
  std::unique_ptr<admin::command_set> commands_;
  const server_config* config_ = nullptr;  // set by run, for the commands below
};

}  // namespace sig::app
