// The database side of an import from the FastAPI server, per backend (store/sqlite/
// sqlite_fastapi.cpp, store/postgres/pg_fastapi.cpp); fastapi_import.cpp drives them.
#pragma once

#include "store/fastapi_plan.hpp"

#include <memory>
#include <string>

namespace sig::store::fastapi {

/// One write transaction on this server's (migrated) database, which locks out other writers
/// until it ends; rolled back unless committed.
class target_transaction {
 public:
  virtual ~target_transaction() = default;
  virtual table_counts counts() = 0;
  virtual target_state state() = 0;
  /// Inserts the plan's rows in order (users, organizations, memberships, addresses) and moves
  /// the id generators past them.
  virtual void write(const import_plan& plan) = 0;
  virtual void commit() = 0;
};

}  // namespace sig::store::fastapi

namespace sig::store::sqlite {
fastapi::source_database read_fastapi_source(const std::string& path);
std::unique_ptr<fastapi::target_transaction> begin_fastapi_import(const std::string& path);
}  // namespace sig::store::sqlite

namespace sig::store::postgres {
fastapi::source_database read_fastapi_source(const std::string& conninfo);
std::unique_ptr<fastapi::target_transaction> begin_fastapi_import(const std::string& conninfo);
}  // namespace sig::store::postgres
