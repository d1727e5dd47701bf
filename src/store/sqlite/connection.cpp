// sqlite3 RAII wrappers; see connection.hpp.
#include "store/sqlite/connection.hpp"

#include "store/store.hpp"

#include <sqlite3.h>

namespace sig::store::sqlite {
namespace {

[[noreturn]] void throw_error(sqlite3* db, std::string_view what) {
  if (!db) throw sqlite_error(std::string(what) + ": out of memory", SQLITE_NOMEM);
  throw sqlite_error(std::string(what) + ": " + sqlite3_errmsg(db), sqlite3_extended_errcode(db));
}

// The database belongs to this process alone while it runs (SQLite serves one server process;
// PostgreSQL is the store to share). "unix-excl" takes one exclusive lock on the file for the
// whole process, which its connections (the writer and the readers) still share, and keeps the
// WAL index in heap memory instead of a memory-mapped -shm file: a -shm file truncated under a
// running server would otherwise kill it with SIGBUS at its next transaction. Another process
// (a second server, the sqlite3 shell) gets "database is locked" instead of a share of the file.
constexpr const char* vfs_of_this_process_only = "unix-excl";

}  // namespace

statement::~statement() {
  sqlite3_reset(handle_);
  sqlite3_clear_bindings(handle_);
}

statement& statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(handle_, index, value) != SQLITE_OK) throw_error(sqlite3_db_handle(handle_), "bind");
  return *this;
}

statement& statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text64(handle_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK)
    throw_error(sqlite3_db_handle(handle_), "bind");
  return *this;
}

statement& statement::bind(int index, const std::optional<std::int64_t>& value) {
  if (value) return bind(index, *value);
  if (sqlite3_bind_null(handle_, index) != SQLITE_OK) throw_error(sqlite3_db_handle(handle_), "bind");
  return *this;
}

bool statement::step() {
  const int rc = sqlite3_step(handle_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if ((rc & 0xFF) == SQLITE_CONSTRAINT)
    throw constraint_violation{sqlite3_extended_errcode(sqlite3_db_handle(handle_))};
  throw_error(sqlite3_db_handle(handle_), "step");
}

std::int64_t statement::int64_at(int column) const { return sqlite3_column_int64(handle_, column); }

std::string statement::text_at(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(handle_, column));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(handle_, column))) : std::string();
}

bool statement::is_null_at(int column) const { return sqlite3_column_type(handle_, column) == SQLITE_NULL; }

connection::connection(const std::string& path) {
  constexpr int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, vfs_of_this_process_only); rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw sqlite_error("cannot open " + path + ": " + message, rc);
  }
  sqlite3_extended_result_codes(db_, 1);
  // The connections of this process may hold SQLite's locks briefly (a checkpoint, the WAL index
  // rebuilt at start), and a server that is still stopping holds the file: wait instead of failing.
  sqlite3_busy_timeout(db_, 5000);
  try {
    // Nothing of the database file is memory-mapped either (whatever the SQLite build's default):
    // a mapped file truncated under the server would be a SIGBUS too, where a read is an error.
    execute("PRAGMA mmap_size=0");
    execute("PRAGMA journal_mode=WAL");
    execute("PRAGMA synchronous=NORMAL");
    execute("PRAGMA foreign_keys=ON");
  } catch (...) {
    sqlite3_close(db_);  // the destructor does not run for a constructor that throws
    throw;
  }
}

connection::connection(const std::string& path, read_only_t) {
  if (const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
      rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw sqlite_error("cannot open " + path + ": " + message, rc);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
}

connection::~connection() {
  for (auto& [sql, handle] : cache_) sqlite3_finalize(handle);
  sqlite3_close(db_);
}

statement connection::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* handle = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &handle,
                           nullptr) != SQLITE_OK)
      throw_error(db_, "prepare");
    it = cache_.emplace(std::string(sql), handle).first;
  }
  return statement(it->second);
}

void connection::execute(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    throw sqlite_error("exec: " + text, sqlite3_extended_errcode(db_));
  }
}

std::int64_t connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int connection::changes() const { return sqlite3_changes(db_); }

transaction::transaction(connection& db, kind k) : db_(db) {
  db_.prepare(k == kind::write ? "BEGIN IMMEDIATE" : "BEGIN").step();
}

transaction::~transaction() {
  if (!open_) return;
  try {
    db_.prepare("ROLLBACK").step();
  } catch (const store_unavailable&) {
    // The transaction is gone already (SQLite rolls back on some errors by itself).
  }
}

void transaction::commit() {
  db_.prepare("COMMIT").step();
  open_ = false;
}

}  // namespace sig::store::sqlite
