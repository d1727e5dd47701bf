// A scratch file, reserved and freed; see space_probe.hpp.
#include "store/sqlite/space_probe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace sig::store::sqlite {
namespace {

std::string reason(const char* what, int error) { return std::string(what) + ": " + std::strerror(error); }

/// A file in `directory` that no one can see: O_TMPFILE where the filesystem has it, else a new
/// file unlinked at once. -1 with errno set when none can be made (a full directory, say).
int scratch_file(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
  std::string name = directory + "/.signaling-space-probe-XXXXXX";
  std::vector<char> buffer(name.begin(), name.end());
  buffer.push_back('\0');
  const int named = ::mkostemp(buffer.data(), O_CLOEXEC);
  if (named >= 0) ::unlink(buffer.data());
  return named;
}

}  // namespace

std::optional<std::string> room_refused(const std::string& directory, std::uint64_t bytes) {
  const int fd = scratch_file(directory);
  if (fd < 0) return reason("cannot create a scratch file", errno);
  const int error = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  ::close(fd);
  // A filesystem that cannot reserve at all says nothing about room: the write probe decides.
  if (error == 0 || error == EOPNOTSUPP || error == EINVAL) return std::nullopt;
  return reason("cannot reserve room", error);
}

}  // namespace sig::store::sqlite
