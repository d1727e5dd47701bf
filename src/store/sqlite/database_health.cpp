// Noticing a lost database file and failing writes; see database_health.hpp.
#include "store/sqlite/database_health.hpp"

#include "store/sqlite/space_probe.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <filesystem>

namespace sig::store::sqlite {
namespace {

// Room the filesystem must grant before readiness trusts writes again: a few hundred pages, so
// that the next requests' transactions fit, not only the probe's.
constexpr std::uint64_t room_for_writes = 1024 * 1024;

bool is_lack_of_space_or_io_error(int extended_code) {
  const int primary = extended_code & 0xFF;
  return primary == SQLITE_FULL || primary == SQLITE_IOERR;
}

/// A committed write that changes nothing: the header's user_version, rewritten with its value.
/// It appends a page to the WAL, as every write transaction does.
void commit_a_small_write(connection& db) {
  transaction tx(db, transaction::kind::write);
  std::int64_t version = 0;
  {
    auto current = db.prepare("PRAGMA user_version");
    current.step();
    version = current.int64_at(0);
  }
  db.execute("PRAGMA user_version = " + std::to_string(version));
  tx.commit();
}

std::string lost_file_message(const std::string& path) {
  return "the database file " + path + " was deleted or replaced while the server was running";
}

}  // namespace

database_health::database_health(const std::string& path)
    : path_(std::filesystem::absolute(path).string()),
      directory_(std::filesystem::path(path_).parent_path().string()),
      opened_(identity_of(path_)) {
  if (!opened_) spdlog::warn("cannot examine the database file {}: its deletion would go unnoticed", path_);
}

bool database_health::file_is_the_opened_one() {
  if (!opened_) return true;
  const bool same = identity_of(path_) == opened_;
  if (!same && !file_lost_.exchange(true)) {
    // SQLite keeps the -wal file of a database that moved (it neither checkpoints nor deletes it
    // at close), and would replay it into whatever file is at the path at the next start.
    spdlog::error(
        "{}: refusing every request that needs it (503) and failing /readyz. It is not recreated: put the file "
        "back and the server resumes; or stop the server and remove {}-wal, which belongs to the lost file, "
        "before starting it on another one",
        lost_file_message(path_), path_);
  } else if (same && file_lost_.exchange(false)) {
    spdlog::warn("the database file {} is back: serving it again", path_);
  }
  return same;
}

void database_health::check_before_write() {
  if (!file_is_the_opened_one()) throw store_unavailable(lost_file_message(path_));
}

void database_health::check_before_read() const {
  if (file_lost_.load(std::memory_order_relaxed)) throw store_unavailable(lost_file_message(path_));
}

void database_health::write_failed(const sqlite_error& failure) {
  if (!is_lack_of_space_or_io_error(failure.extended_code())) return;
  if (!writes_failing_.exchange(true))
    spdlog::error("database writes fail ({}): /readyz fails until there is room and a write succeeds again",
                  failure.what());
}

bool database_health::ready(connection_pool& writer) {
  if (!file_is_the_opened_one()) return false;
  if (!writes_failing_.load()) return true;
  if (const auto refused = room_refused(directory_, room_for_writes)) {
    spdlog::debug("readiness: no room for database writes in {}: {}", directory_, *refused);
    return false;
  }
  try {
    writer.with_connection(commit_a_small_write);
  } catch (const store_unavailable& e) {
    spdlog::debug("readiness: the database write probe failed: {}", e.what());
    return false;
  }
  if (writes_failing_.exchange(false)) spdlog::warn("database writes succeed again: ready");
  return true;
}

}  // namespace sig::store::sqlite
