// What the SQLite store must notice about its database besides SQL errors, so that requests get a
// 503 and /readyz fails instead of answering as if all was well:
// - the file it opened was deleted or replaced (a stat at the start of every write transaction
//   and at every readiness check). SQLite would keep writing to the file it holds open, and all
//   of it would be gone at the next start. Once noticed, reads fail as well: they would serve a
//   database that is no longer the server's. It is never recreated; the server is itself again
//   when the file it opened is back at its path, else after a restart.
// - writes fail for lack of space or an I/O error (SQLITE_FULL, SQLITE_IOERR). Only readiness
//   changes: it fails until the filesystem grants room again and a small write succeeds.
// Every change is logged once, when it is noticed, rather than at every request it fails.
#pragma once

#include "store/sqlite/connection.hpp"
#include "store/sqlite/connection_pool.hpp"
#include "store/sqlite/file_identity.hpp"

#include <atomic>
#include <optional>
#include <string>

namespace sig::store::sqlite {

class database_health {
 public:
  /// `path`: the database file, opened by the store just before.
  explicit database_health(const std::string& path);

  /// At the start of a write transaction. Throws store_unavailable when the file is not the one
  /// opened any more.
  void check_before_write();
  /// At the start of a read: throws store_unavailable when the file was found missing. No
  /// system call: a read does not look for itself.
  void check_before_read() const;
  /// A write failed: remembered when for lack of space or an I/O error.
  void write_failed(const sqlite_error& failure);

  /// Readiness: the file is the one opened, and if writes were failing for lack of space or an
  /// I/O error, there is room again and a small write on `writer` commits (which clears it).
  bool ready(connection_pool& writer);

 private:
  /// Compares the file at the path with the one opened; logs when that changes.
  bool file_is_the_opened_one();

  std::string path_;
  std::string directory_;
  std::optional<file_identity> opened_;
  std::atomic<bool> file_lost_{false};
  std::atomic<bool> writes_failing_{false};
};

}  // namespace sig::store::sqlite
