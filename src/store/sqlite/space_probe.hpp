// Whether the filesystem holding the database has room again after writes failed for lack of it.
// Asked of the filesystem itself, by reserving the room in a scratch file: statvfs figures miss
// quotas and the blocks reserved for root, and a small SQLite write can still succeed on a full
// disk, in room its WAL file already holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sig::store::sqlite {

/// nullopt when the filesystem holding `directory` grants this process `bytes` more; else why not.
/// The scratch file has no name (or loses it at once) and is freed before returning.
std::optional<std::string> room_refused(const std::string& directory, std::uint64_t bytes);

}  // namespace sig::store::sqlite
