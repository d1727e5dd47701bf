// Applies migrations/postgres/V*.sql; see pg_migrate.hpp.
#include "store/postgres/pg_migrate.hpp"

#include "core/clock.hpp"
#include "core/embedded.hpp"
#include "store/migration.hpp"

#include <array>
#include <string_view>

SIG_DECLARE_EMBEDDED(postgres_v001);
SIG_DECLARE_EMBEDDED(postgres_v002);

namespace sig::store::postgres {
namespace {

const std::array<migration, 2> migrations{{{1, SIG_EMBEDDED(postgres_v001)}, {2, SIG_EMBEDDED(postgres_v002)}}};

}  // namespace

void migrate(pg_pool& pool) {
  pool.transact([](pg_connection& db) {
    const pg_rows schema = db.run("SELECT current_schema()");
    if (schema.is_null(0, 0))
      throw store_unavailable("the database's search_path names no existing schema to create the tables in");
    // Held until this transaction ends: a second process starting now waits here, then finds the
    // migrations applied.
    db.run("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.signaling-migrations'))");
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)");
    const std::int64_t applied = db.run("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").int64(0, 0);
    refuse_newer_schema(applied, migrations);
    for (const migration& m : migrations) {
      if (m.version <= applied) continue;
      db.execute(std::string(m.script));
      db.run("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", pg_params(m.version, now_micros()));
    }
    return true;
  });
}

}  // namespace sig::store::postgres
