// Connection lending; see pg_pool.hpp.
#include "store/postgres/pg_pool.hpp"

namespace sig::store::postgres {

pg_pool::pg_pool(std::string conninfo, std::size_t size) : conninfo_(std::move(conninfo)) {
  idle_.resize(std::max<std::size_t>(size, 1));
}

pg_pool::lease::lease(pg_pool& pool) : pool_(pool) {
  std::unique_lock lock(pool.mutex_);
  pool.available_.wait(lock, [&] { return !pool.idle_.empty(); });
  connection_ = std::move(pool.idle_.back());
  pool.idle_.pop_back();
  reused_ = connection_ != nullptr;
}

pg_pool::lease::~lease() {
  // A connection left inside a transaction (a failed ROLLBACK) is useless to the next borrower.
  if (connection_ && !connection_->is_healthy()) connection_.reset();
  {
    std::lock_guard lock(pool_.mutex_);
    pool_.idle_.push_back(std::move(connection_));
  }
  pool_.available_.notify_one();
}

pg_connection& pg_pool::lease::connection() {
  if (connection_ && !connection_->is_healthy()) connection_.reset();
  if (!connection_) {
    connection_ = std::make_unique<pg_connection>(pool_.conninfo_);
    reused_ = false;
  }
  return *connection_;
}

void pg_pool::lease::discard() noexcept { connection_.reset(); }

void pg_pool::rollback_quietly(pg_connection& db) noexcept {
  try {
    db.execute("ROLLBACK");
  } catch (...) {
    // The connection is broken; the lease drops it.
  }
}

bool pg_pool::is_retryable(const pg_error& e) noexcept {
  return e.sqlstate() == sqlstate::serialization_failure || e.sqlstate() == sqlstate::deadlock_detected;
}

}  // namespace sig::store::postgres
