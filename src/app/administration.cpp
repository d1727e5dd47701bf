// The administration commands' wiring, and those that need the configuration; see
// administration.hpp.
#include "app/administration.hpp"

#include "admin/import.hpp"
#include "admin/output.hpp"
#include "app/credentials.hpp"
#include "auth/secret_key.hpp"
#include "core/random.hpp"
#include "store/cluster_store.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <unistd.h>

namespace sig::app {
namespace {

namespace json = boost::json;

// What `config check` finds wrong beyond what parsing already refused; empty when nothing.
std::vector<std::string> configuration_problems(const server_config& config) {
  std::vector<std::string> problems;
  try {
    const auto location = store::parse_database_url(config.database_url);
    if (location.kind == store::backend::sqlite) {
      const auto directory = store::database_directory(location);
      if (::access(directory.c_str(), W_OK) != 0)
        problems.push_back("DATABASE_URL: directory " + directory.string() + " is missing or not writable");
    } else if (!store::open_store(location, 1)->is_reachable()) {
      problems.push_back("DATABASE_URL: the database does not answer");
    }
  } catch (const std::exception& e) {
    problems.push_back(std::string("DATABASE_URL: ") + e.what());
  }
  for (const auto* file : {&config.tls_cert_file, &config.tls_key_file})
    if (!file->empty() && !std::ifstream(*file).good()) problems.push_back("cannot read " + *file);
  return problems;
}

}  // namespace

void administration::attach(CLI::App& cli) {
  commands_ = std::make_unique<admin::command_set>(cli);
  admin::add_user_commands(*commands_);
  admin::add_organization_commands(*commands_);
  admin::add_member_commands(*commands_);
  admin::add_address_commands(*commands_);
  admin::add_peer_commands(*commands_);
  admin::add_import_command(*commands_, cli, [this] { return config_->database_url; });

  commands_->command(&cli, "migrate", "Apply the database migrations, then exit", [this](admin::admin_context& c) {
    c.open_database();
    std::string database;
    for (const auto& [name, value] : describe_config(*config_))
      if (name == "DATABASE_URL") database = value;  // its password masked
    admin::print_record(c.out, {{"database", database}, {"migrated", true}}, c.json);
    return 0;
  });

  CLI::App* config = commands_->group("config", "The configuration: check");
  commands_->command(config, "check",
                     "Print the effective configuration (secrets masked); exit 1 when something is wrong",
                     [this](admin::admin_context& c) {
                       json::array rows;
                       for (const auto& [name, value] : describe_config(*config_))
                         rows.push_back(json::object{{"setting", name}, {"value", value}});
                       const auto problems = configuration_problems(*config_);
                       if (c.json) {
                         json::array found(problems.begin(), problems.end());
                         admin::print_record(c.out, {{"settings", rows}, {"problems", found}}, true);
                       } else {
                         admin::print_rows(c.out, rows, false);
                       }
                       for (const auto& problem : problems) c.err << "error: " << problem << "\n";
                       return problems.empty() ? 0 : 1;
                     });

  CLI::App* secret = commands_->group("secret", "The JWT signing key: rotate");
  commands_->command(
      secret, "rotate",
      "Replace the generated JWT signing key: every token issued so far is refused once the server restarts",
      [this](admin::admin_context& c) {
        if (!config_->secret_key.empty()) {
          c.err << "SECRET_KEY is set in the configuration: rotate it there (and restart the server)\n";
          return 1;
        }
        const auto location = store::parse_database_url(config_->database_url);
        const auto db = c.open_database();
        std::string kept_in;
        if (auto* shared = db->cluster()) {
          shared->replace_shared_setting("jwt_signing_key", random_token(48));
          kept_in = "the database";
        } else {
          auth::replace_secret(secret_file(location));
          kept_in = secret_file(location).string();
        }
        admin::print_record(c.out, {{"rotated", true}, {"kept_in", kept_in}}, c.json);
        c.err << "restart every server process: they sign and verify with the key they read at start\n";
        return 0;
      });
}

int administration::run(const server_config& config) {
  config_ = &config;
  const auto location = store::parse_database_url(config.database_url);
  admin::admin_context context{
      [location]() -> std::unique_ptr<store::store> {
        try {
          return store::open_store(location, 1);
        } catch (const store::store_unavailable& e) {
          if (location.kind != store::backend::sqlite || std::string_view(e.what()).find("locked") == std::string::npos)
            throw;
          throw std::runtime_error("the SQLite database " + location.target +
                                   " is in use: a SQLite database belongs to the one server that runs on it, so stop "
                                   "the server first (with PostgreSQL, these commands run beside the servers)");
        }
      },
      [&config] { return make_hasher(config); },
      std::cout,
      std::cerr,
  };
  try {
    return commands_->run_selected(context);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace sig::app
