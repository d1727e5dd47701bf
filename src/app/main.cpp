// signaling-server: reads the configuration and runs the server. Wiring only.
#include "app/config.hpp"
#include "app/logging.hpp"
#include "app/server.hpp"

#include <spdlog/spdlog.h>

#include <exception>

int main(int argc, char** argv) {
  int exit_code = 0;
  const auto config = sig::app::load_config(argc, argv, exit_code);
  if (!config) return exit_code;
  sig::app::configure_logging(config->log_level, config->log_format);
  try {
    return sig::app::run_server(*config);
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
}
