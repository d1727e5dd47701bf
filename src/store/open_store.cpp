// DATABASE_URL parsing and store construction; see open_store.hpp.
#include "store/open_store.hpp"

#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <stdexcept>

namespace sig::store {

database_location parse_database_url(std::string_view url) {
  constexpr std::string_view sqlite_prefix = "sqlite:///";
  if (url.starts_with(sqlite_prefix)) {
    const std::string_view path = url.substr(sqlite_prefix.size());
    if (path.empty()) throw std::invalid_argument("DATABASE_URL: sqlite:/// needs a file path");
    return {backend::sqlite, std::string(path)};
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return {backend::postgres, std::string(url)};
  // SQLAlchemy names its driver: postgresql+psycopg2://... is postgresql://... to libpq.
  constexpr std::string_view sqlalchemy_prefix = "postgresql+";
  if (url.starts_with(sqlalchemy_prefix)) {
    const auto scheme_end = url.find("://");
    const std::string_view driver = url.substr(sqlalchemy_prefix.size(), scheme_end - sqlalchemy_prefix.size());
    const bool named = scheme_end != std::string_view::npos && !driver.empty() &&
                       driver.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
    if (named) return {backend::postgres, "postgresql" + std::string(url.substr(scheme_end))};
  }
  throw std::invalid_argument("DATABASE_URL must start with sqlite:///, postgresql:// or postgres://");
}

std::filesystem::path database_directory(const database_location& location) {
  if (location.kind != backend::sqlite) return std::filesystem::current_path();
  const std::filesystem::path parent = std::filesystem::path(location.target).parent_path();
  return parent.empty() ? std::filesystem::current_path() : parent;
}

std::unique_ptr<store> open_store(const database_location& location, std::size_t connections) {
  if (location.kind == backend::postgres) return std::make_unique<postgres::pg_store>(location.target, connections);
  return std::make_unique<sqlite::sqlite_store>(location.target, connections);
}

}  // namespace sig::store
