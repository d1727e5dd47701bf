// Chooses and opens the store named by DATABASE_URL.
#pragma once

#include "store/store.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace sig::store {

enum class backend { sqlite, postgres };

struct database_location {
  backend kind = backend::sqlite;
  std::string target;  // SQLite: file path; PostgreSQL: the libpq connection URI
};

/// "sqlite:///relative.db", "sqlite:////absolute.db", "postgresql://...", "postgres://..." or
/// SQLAlchemy's "postgresql+<driver>://..." (its query, ?sslmode=... say, goes to libpq as it is).
/// Throws std::invalid_argument for anything else.
database_location parse_database_url(std::string_view url);

/// The directory that holds the database file (SQLite), or the working directory.
std::filesystem::path database_directory(const database_location& location);

/// Throws store_unavailable when the database cannot be opened or migrated. `connections`: the
/// size of the pool (SQLite: readers).
std::unique_ptr<store> open_store(const database_location& location, std::size_t connections);

}  // namespace sig::store
