// stat(2) of a path; see file_identity.hpp.
#include "store/sqlite/file_identity.hpp"

#include <sys/stat.h>

namespace sig::store::sqlite {

std::optional<file_identity> identity_of(const std::string& path) noexcept {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return std::nullopt;
  return file_identity{static_cast<std::uint64_t>(status.st_dev), static_cast<std::uint64_t>(status.st_ino)};
}

}  // namespace sig::store::sqlite
