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
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sig::auth {
namespace {

std::runtime_error io_error(const std::filesystem::path& file, const char* what) {
  return std::runtime_error(std::string(what) + " " + file.string() + ": " + std::strerror(errno));
}

std::string read_key(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) throw io_error(file, "cannot stat");
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    throw std::runtime_error("secret key file " + file.string() + " is readable by others; chmod 600 it");
  std::ifstream in(file);
  std::ostringstream content;
  content << in.rdbuf();
  std::string key = content.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
  if (key.empty()) throw std::runtime_error("secret key file " + file.string() + " is empty");
  return key;
}

}  // namespace

loaded_secret load_or_create_secret(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno != EEXIST) throw io_error(file, "cannot create");
    // Another process may have created the file an instant ago and not written it yet.
    for (int attempt = 0;; ++attempt) {
      try {
        return {read_key(file), false};
      } catch (const std::runtime_error&) {
        if (attempt == 20) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  const std::string key = random_hex(32);
  const std::string line = key + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) throw io_error(file, "cannot write");
  return {key, true};
}

}  // namespace sig::auth
