// `signaling-server import --from <DATABASE_URL>`: migration from the FastAPI server (README,
// "Migrating from the FastAPI server").
#pragma once

#include "admin/command_set.hpp"

#include <functional>
#include <string>

namespace sig::admin {

/// `target_database_url` gives the configured DATABASE_URL once the command line is parsed.
/// `root` is the command line the command is added to (`import` is a command of its own, not of a group).
void add_import_command(command_set& commands, CLI::App& root, std::function<std::string()> target_database_url);

}  // namespace sig::admin
