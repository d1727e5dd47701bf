// A thin RAII layer over one sqlite3 connection: cached prepared statements, typed binding and
// reading, and transactions. Not thread-safe: one thread uses a connection at a time.
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace sig::store::sqlite {

/// A prepared statement borrowed from its connection's cache; reset when it goes out of scope.
class statement {
 public:
  explicit statement(sqlite3_stmt* handle) noexcept : handle_(handle) {}
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  statement& bind(int index, std::int64_t value);
  statement& bind(int index, std::string_view text);
  /// NULL when empty.
  statement& bind(int index, const std::optional<std::int64_t>& value);

  template <class... Args>
  statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  /// True when a row is available; false when done. Throws sqlite_error on errors, and
  /// constraint_violation on constraint failures.
  bool step();

  std::int64_t int64_at(int column) const;
  std::string text_at(int column) const;
  bool is_null_at(int column) const;

 private:
  sqlite3_stmt* handle_;
};

/// A failed SQLite call. Carries SQLite's extended result code, so that the store can tell a full
/// disk or an I/O error (which readiness must report) from other failures.
class sqlite_error : public store_unavailable {
 public:
  sqlite_error(const std::string& what, int extended_code) : store_unavailable(what), code_(extended_code) {}
  int extended_code() const noexcept { return code_; }

 private:
  int code_;
};

/// Thrown by statement::step when a UNIQUE, PRIMARY KEY, FOREIGN KEY or CHECK constraint fails.
struct constraint_violation {
  int extended_code;
};

class connection {
 public:
  /// Opens (creating if needed) the database file with WAL, foreign keys and a busy timeout, for
  /// this process alone (see connection.cpp). Throws sqlite_error.
  explicit connection(const std::string& path);
  /// Opens another program's database to read it (signaling-server import): read-only, never
  /// created, its journal mode left alone, shared with whoever else has it open.
  struct read_only_t {};
  connection(const std::string& path, read_only_t);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  statement prepare(std::string_view sql);
  void execute(const std::string& sql);
  std::int64_t last_insert_rowid() const;
  int changes() const;

 private:
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

/// BEGIN IMMEDIATE (or DEFERRED for reads) ... COMMIT; rolls back if not committed.
class transaction {
 public:
  enum class kind { read, write };
  transaction(connection& db, kind k);
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();
  void commit();

 private:
  connection& db_;
  bool open_ = true;
};

}  // namespace sig::store::sqlite
