// Logging set-up: level and format (human text, or one JSON object per line for log shippers).
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace sig::app {

/// `level`: spdlog level name; `format`: "text" or "json". Logs go to standard error.
void configure_logging(const std::string& level, const std::string& format);

/// The logger "access" (http/access_log.hpp), writing to standard error like the others, at their
/// level, in `format`; registered with spdlog. Call after configure_logging.
std::shared_ptr<spdlog::logger> make_access_logger(const std::string& format);

}  // namespace sig::app
