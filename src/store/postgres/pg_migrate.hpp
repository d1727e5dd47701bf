// Versioned migrations of the PostgreSQL schema (migrations/postgres/V*.sql), recorded in
// schema_migrations and applied under an advisory lock, so that N processes starting at once
// migrate once.
#pragma once

#include "store/postgres/pg_pool.hpp"

namespace sig::store::postgres {

/// Brings the schema up to date. Throws store_unavailable when the database is unreachable, its
/// search_path names no schema, or its schema is newer than this server knows.
void migrate(pg_pool& pool);

}  // namespace sig::store::postgres
