// Which file a path names (its device and inode), to notice that the database file the server
// opened was deleted or replaced under it. SQLite keeps reading and writing the file it opened,
// which then has no name, or another: whatever it writes is gone at the next start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sig::store::sqlite {

struct file_identity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;

  friend bool operator==(const file_identity&, const file_identity&) = default;
};

/// The file `path` names now; nullopt when it names nothing (or cannot be examined). One stat(2).
std::optional<file_identity> identity_of(const std::string& path) noexcept;

}  // namespace sig::store::sqlite
