// Versioned schema migrations for SQLite: the numbered scripts of migrations/sqlite, compiled
// into the binary and applied in order, each in its own transaction.
#pragma once

namespace sig::store::sqlite {

class connection;

/// Brings the schema up to date. Throws store_unavailable if the database was migrated by a newer
/// version of the server than this one.
void migrate(connection& db);

}  // namespace sig::store::sqlite
