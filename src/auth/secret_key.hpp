// The JWT signing key when SECRET_KEY is not configured: generated once, kept in a 0600 file, so
// that tokens survive restarts and every process sharing the file agrees on it.
#pragma once

#include <filesystem>
#include <string>

namespace sig::auth {

struct loaded_secret {
  std::string key;
  bool created = false;  // true when this call generated and wrote the file
};

/// Reads the key from `file`, or creates the file (mode 0600, exclusive create, so two processes
/// starting together agree) with 32 random bytes in hex. Throws std::runtime_error on I/O errors
/// or an empty or group/world-readable file.
loaded_secret load_or_create_secret(const std::filesystem::path& file);

/// Replaces the key in `file` with 32 new random bytes in hex (written beside it, mode 0600, then
/// renamed over it, so that a reader sees the old key or the new one). Returns the new key.
/// Throws std::runtime_error on I/O errors.
std::string replace_secret(const std::filesystem::path& file);

}  // namespace sig::auth
