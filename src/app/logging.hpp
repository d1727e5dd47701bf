// Logging set-up: level and format (human text, or one JSON object per line for log shippers).
#pragma once

#include <string>

namespace sig::app {

/// `level`: spdlog level name; `format`: "text" or "json". Logs go to standard error.
void configure_logging(const std::string& level, const std::string& format);

}  // namespace sig::app
