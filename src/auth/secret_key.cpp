// Generated signing key file; see secret_key.hpp.
#include "auth/secret_key.hpp"

#include "core/random.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sig::auth {
namespace {

std::runtime_error io_error(const std::filesystem::path& file, const char* what) {
  return std::runtime_error(std::string(what) + " " + file.string() + ": " + std::strerror(errno));
}

// The key, or nullopt while the file is still empty.
std::optional<std::string> read_key(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) throw io_error(file, "cannot stat");
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    throw std::runtime_error("secret key file " + file.string() + " is readable by others; chmod 600 it");
  std::ifstream in(file);
  std::ostringstream content;
  content << in.rdbuf();
  std::string key = content.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
  if (key.empty()) return std::nullopt;
  return key;
}

}  // namespace

loaded_secret load_or_create_secret(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno != EEXIST) throw io_error(file, "cannot create");
    // An empty file may be one another process created an instant ago and is writing.
    for (int attempt = 0; attempt < 20; ++attempt) {
      if (auto key = read_key(file)) return {std::move(*key), false};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("secret key file " + file.string() + " is empty");
  }
  const std::string key = random_hex(32);
  const std::string line = key + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) throw io_error(file, "cannot write");
  return {key, true};
}

std::string replace_secret(const std::filesystem::path& file) {
  const std::filesystem::path next = file.string() + ".new";
  ::unlink(next.c_str());  // left by an interrupted rotation
  const int fd = ::open(next.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw io_error(next, "cannot create");
  const std::string key = random_hex(32);
  const std::string line = key + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) throw io_error(next, "cannot write");
  if (::rename(next.c_str(), file.c_str()) != 0) throw io_error(file, "cannot replace");
  return key;
}

}  // namespace sig::auth
