// A versioned migration of a store's schema (migrations/<dialect>/V<version>__*.sql, compiled into
// the binary), and the refusal of a schema newer than this server knows. Each store applies its
// own dialect's list in its own way.
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sig::store {

struct migration {
  std::int64_t version;
  std::string_view script;
};

/// Throws store_unavailable when the database was migrated by a newer server (`applied` is
/// beyond the last of `known`).
inline void refuse_newer_schema(std::int64_t applied, std::span<const migration> known) {
  if (applied > known.back().version)
    throw store_unavailable("the database schema (version " + std::to_string(applied) +
                            ") is newer than this server knows; upgrade the server");
}

}  // namespace sig::store
