// Loads a .env file (KEY=VALUE lines) into the environment, without overriding variables that
// are already set: the real environment wins over the file.
#pragma once

#include <filesystem>

namespace sig::app {

/// Silently does nothing when the file does not exist. Supports comments (#), blank lines,
/// an optional "export " prefix and single or double quotes around values.
void load_dotenv(const std::filesystem::path& file);

}  // namespace sig::app
