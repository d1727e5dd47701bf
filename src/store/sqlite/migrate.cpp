// Applies migrations/sqlite/V*.sql; see migrate.hpp.
#include "store/sqlite/migrate.hpp"

#include "core/clock.hpp"
#include "core/embedded.hpp"
#include "store/migration.hpp"
#include "store/sqlite/connection.hpp"
#include "store/store.hpp"

#include <array>
#include <string_view>

SIG_DECLARE_EMBEDDED(sqlite_v001);
SIG_DECLARE_EMBEDDED(sqlite_v002);

namespace sig::store::sqlite {
namespace {

const std::array<migration, 2> migrations{{{1, SIG_EMBEDDED(sqlite_v001)}, {2, SIG_EMBEDDED(sqlite_v002)}}};

}  // namespace

void migrate(connection& db) {
  db.execute(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  transaction tx(db, transaction::kind::write);
  const std::int64_t applied = [&] {
    auto current = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    current.step();
    return current.int64_at(0);
  }();
  refuse_newer_schema(applied, migrations);
  for (const migration& m : migrations) {
    if (m.version <= applied) continue;
    db.execute(std::string(m.script));
    db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
        .bind_all(m.version, now_micros())
        .step();
  }
  tx.commit();
}

}  // namespace sig::store::sqlite
