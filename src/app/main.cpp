// signaling-server: reads the configuration, then runs the server, or the administration command
// that the command line names. Wiring only.
#include "app/administration.hpp"
#include "app/config.hpp"
#include "app/logging.hpp"
#include "app/server.hpp"

#include <spdlog/spdlog.h>

#include <exception>

int main(int argc, char** argv) {
  int exit_code = 0;
  sig::app::administration administration;
  const auto config = sig::app::load_config(argc, argv, exit_code, [&](CLI::App& cli) { administration.attach(cli); });
  if (!config) return exit_code;
  if (administration.selected()) {
    // A command's output is its result: the server's informational lines stay out of the way.
    const bool verbose = config->log_level == "debug" || config->log_level == "trace";
    sig::app::configure_logging(verbose ? config->log_level : "warn", config->log_format);
    return administration.run(*config);
  }
  sig::app::configure_logging(config->log_level, config->log_format);
  try {
    return sig::app::run_server(*config);
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
}
